/** The image containers the service decodes (sniffed from the leading bytes, never from the name). */
export type SupportedFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** Each supported format's name as messages write it. */
export const FORMAT_LABEL: Readonly<Record<SupportedFormat, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
  avif: 'AVIF',
};
