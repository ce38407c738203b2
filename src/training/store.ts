import type { DataOptions, ImageItem } from '../data/dataset';
import type { TrainingCheckpoint } from './checkpoint';
import type { TrainSetup } from './recipe';
import type { PreviewFrame, RunOptions } from './session';

/**
 * The training run kept in IndexedDB, so a reload (or a crash) loses nothing: the data set once, and
 * the newest good checkpoint as training goes. Works in the worker (IndexedDB is there too).
 */
export interface SavedData {
  options: DataOptions;
  items: ImageItem[];
}

export interface SavedRun {
  checkpoint: TrainingCheckpoint;
  run: RunOptions;
  /** What the run started from ('new' model or the shipped one), for the UI. */
  init: string;
  /** The form as the person filled it in (older saves have none). */
  setup?: TrainSetup;
  /** The EMA previews so far, with their image size, to show again after a reload. */
  film?: SavedPreview[];
  savedAt: number;
}

export interface SavedPreview extends PreviewFrame {
  size: number;
  channels: number;
}

const DB_NAME = 'ddpm-playground';
const STORE = 'training';

function open(idb: IDBFactory): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = idb.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('could not open IndexedDB'));
  });
}

async function transact<T>(idb: IDBFactory, mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest | void): Promise<T> {
  const db = await open(idb);
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = body(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req?.result as T);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
    });
  } finally {
    db.close();
  }
}

export class TrainingStore {
  constructor(private readonly idb: IDBFactory = indexedDB) {}

  saveData(data: SavedData): Promise<void> {
    return transact(this.idb, 'readwrite', (s) => void s.put(data, 'data'));
  }

  saveRun(run: SavedRun): Promise<void> {
    return transact(this.idb, 'readwrite', (s) => void s.put(run, 'run'));
  }

  /** The saved run and its data, or null when there is none (or only half of it). */
  async load(): Promise<{ data: SavedData; run: SavedRun } | null> {
    const [data, run] = await Promise.all([
      transact<SavedData | undefined>(this.idb, 'readonly', (s) => s.get('data')),
      transact<SavedRun | undefined>(this.idb, 'readonly', (s) => s.get('run')),
    ]);
    return data && run ? { data, run } : null;
  }

  clear(): Promise<void> {
    return transact(this.idb, 'readwrite', (s) => void s.clear());
  }
}
