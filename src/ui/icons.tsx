/** Small inline SVG icons for the run controls: no font needs a ⏸ glyph for them to show. */
const svg = (path: string) =>
  function Icon() {
    return (
      <svg className="icon" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false">
        <path d={path} fill="currentColor" />
      </svg>
    );
  };

export const PlayIcon = svg('M2 1l9 5-9 5z');
export const PauseIcon = svg('M2 1h3v10H2zM7 1h3v10H7z');
export const StopIcon = svg('M2 2h8v8H2z');
export const StepIcon = svg('M1 1l7 5-7 5zM9 1h2v10H9z');
