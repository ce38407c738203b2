import type { CaptionSummary, ImageBatch } from '../../protocol';
import { ImageCanvas } from '../ImageCanvas';
import { pick } from '../pixels';

/** A captioned set's first pictures, each with its caption under it, and what is wrong with the captions. */
export function CaptionedPreview({ preview, captions }: { preview: ImageBatch; captions: CaptionSummary }) {
  return (
    <>
      <p className="muted" data-testid="caption-source">
        Captions from {captions.source}: {captions.words} different word
        {captions.words === 1 ? '' : 's'}, the vocabulary of the text model trained on them (up to {captions.maxWords} words a caption).
      </p>
      <ul
        className="captioned-preview"
        data-testid="data-preview"
        aria-label={`the first ${preview.batch} training images and their captions`}
      >
        {captions.preview.map((caption, i) => (
          <li key={i}>
            <ImageCanvas image={pick(preview, i)} displaySize={64} label={`training image ${i + 1}: ${caption || 'no caption'}`} />
            <span className={caption ? 'caption' : 'caption muted'} data-testid="data-caption">
              {caption || '(empty prompt)'}
            </span>
          </li>
        ))}
      </ul>
      {captions.problems.length > 0 && (
        <details open className="rejected">
          <summary>
            {captions.problems.length} problem{captions.problems.length === 1 ? '' : 's'} with the captions
          </summary>
          <ul data-testid="caption-problems">
            {captions.problems.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
