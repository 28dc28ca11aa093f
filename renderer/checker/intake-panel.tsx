import { useEffect, useRef, useState, type ChangeEvent, type DragEvent, type KeyboardEvent } from 'react';
import { filesFromDrop, filesFromInput, type PickedFile } from './file-intake.ts';

interface IntakePanelProps {
  /** Adds the files as rows; resolves once they are in the table (thousands take seconds to read and hash). */
  onFiles: (files: PickedFile[]) => Promise<void>;
  onListFile: (file: File) => void;
}

/** Marks an input as a folder picker; React has no typed prop for the non-standard attribute. */
function folderPicker(input: HTMLInputElement | null): void {
  if (input) input.webkitdirectory = true;
}

/** Resets a picker after reading it, so choosing the same file again fires change again. */
function takeFiles(event: ChangeEvent<HTMLInputElement>): PickedFile[] {
  const files = filesFromInput(event.currentTarget.files);
  event.currentTarget.value = '';
  return files;
}

function hasFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files');
}

/** The drop zone for images and folders, with the image, folder and pair-list pickers. */
export function IntakePanel({ onFiles, onListFile }: IntakePanelProps) {
  const [over, setOver] = useState(false);
  // What the zone says while files are being read: dropped folders are walked first, then every
  // file is read and hashed (5,000 photos: about 3 s) before its row shows.
  const [reading, setReading] = useState<string | undefined>();
  const readsUnderWay = useRef(0);
  const imagePicker = useRef<HTMLInputElement>(null);

  const whileReading = (what: string, work: Promise<unknown>) => {
    readsUnderWay.current += 1;
    setReading(what);
    void work.finally(() => {
      readsUnderWay.current -= 1;
      if (readsUnderWay.current === 0) setReading(undefined);
    });
  };
  const add = (files: PickedFile[]) => {
    if (files.length > 0) whileReading(`Reading ${files.length} file${files.length === 1 ? '' : 's'}…`, onFiles(files));
  };

  // A file dropped beside the zone would make the browser navigate to it and lose the table.
  useEffect(() => {
    const refuse = (event: globalThis.DragEvent) => {
      if (event.defaultPrevented || !event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      if (event.type === 'dragover') event.dataTransfer.dropEffect = 'none';
    };
    window.addEventListener('dragover', refuse);
    window.addEventListener('drop', refuse);
    return () => {
      window.removeEventListener('dragover', refuse);
      window.removeEventListener('drop', refuse);
    };
  }, []);

  const onDragOver = (event: DragEvent<HTMLDivElement>) => {
    // Without preventDefault the browser refuses the drop.
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    if (!over && hasFiles(event)) setOver(true);
  };

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    if (!event.dataTransfer) return;
    whileReading('Reading dropped files…', filesFromDrop(event.dataTransfer).then(add));
  };

  // The zone itself is a keyboard target too: Enter or Space opens the image picker.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget || (event.key !== 'Enter' && event.key !== ' ')) return;
    event.preventDefault();
    imagePicker.current?.click();
  };

  return (
    <div
      className={`drop-zone${over ? ' over' : ''}`}
      data-testid="drop-zone"
      role="region"
      tabIndex={0}
      aria-label="Drop images or folders here, or press Enter to choose images"
      onKeyDown={onKeyDown}
      onDragOver={onDragOver}
      onDragEnter={(event) => hasFiles(event) && setOver(true)}
      onDragLeave={(event) => {
        // dragleave also fires when moving onto a child; only leaving the zone itself counts.
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={onDrop}
    >
      <p className="drop-title" role="status" data-testid="drop-title">
        {reading ?? 'Drop images or folders here'}
      </p>
      <p className="muted drop-hint">Folders are read recursively. A .csv or .jsonl list dropped here is imported as captions.</p>
      <div className="drop-actions">
        <label className="button-like">
          <input
            ref={imagePicker}
            className="visually-hidden"
            type="file"
            multiple
            accept="image/*"
            data-testid="pick-images"
            onChange={(e) => add(takeFiles(e))}
          />
          Choose images…
        </label>
        <label className="button-like">
          <input className="visually-hidden" type="file" multiple ref={folderPicker} onChange={(e) => add(takeFiles(e))} />
          Choose folder…
        </label>
        <label className="button-like" title="A CSV or JSONL list of image,caption[,premise]: captions for the images by file name">
          <input
            className="visually-hidden"
            type="file"
            accept=".csv,.jsonl,.ndjson,.json,text/csv,application/json"
            data-testid="import-list"
            onChange={(e) => {
              const file = takeFiles(e)[0]?.file;
              if (file) onListFile(file);
            }}
          />
          Import caption list…
        </label>
      </div>
    </div>
  );
}
