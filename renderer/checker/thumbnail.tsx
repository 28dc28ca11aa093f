import { useEffect, useState } from 'react';

/**
 * An object URL for a blob, alive while the component is mounted: created in an effect and
 * revoked in its cleanup, so removing a row, filtering it out or leaving the tab frees it.
 */
function useObjectUrl(blob: Blob): string | undefined {
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    const created = URL.createObjectURL(blob);
    setUrl(created);
    return () => URL.revokeObjectURL(created);
  }, [blob]);
  return url;
}

/** A small preview of the image; a placeholder when the browser cannot show it (not an image). */
export function Thumbnail({ file }: { file: Blob }) {
  const url = useObjectUrl(file);
  const [broken, setBroken] = useState(false);
  if (broken || !url)
    return (
      <div className="thumb thumb-placeholder" aria-hidden="true">
        {broken ? '?' : ''}
      </div>
    );
  return <img className="thumb" src={url} alt="" loading="lazy" decoding="async" onError={() => setBroken(true)} />;
}
