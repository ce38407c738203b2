import type { DataFile } from '../protocol';

/** System files that folders carry along and that are not training pictures; skipped quietly. */
const isClutter = (name: string) => name.startsWith('.') || /^(thumbs\.db|desktop\.ini)$/i.test(name);

/** Files from a file or folder picker, with their folder path when a folder was chosen. */
export function filesFromInput(list: FileList | null): DataFile[] {
  return Array.from(list ?? [])
    .filter((f) => !isClutter(f.name))
    .map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** Files dropped on the page: folders are walked (sub-folder names become labels). */
export async function filesFromDrop(dt: DataTransfer): Promise<DataFile[]> {
  const entries = Array.from(dt.items)
    .map((i) => i.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return filesFromInput(dt.files);
  const out: DataFile[] = [];
  for (const e of entries) await walk(e, '', out);
  return out;
}

async function walk(entry: FileSystemEntry, prefix: string, out: DataFile[]): Promise<void> {
  if (isClutter(entry.name)) return;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: prefix + entry.name });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns at most ~100 entries per call: read until it returns none
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${prefix}${entry.name}/`, out);
  }
}
