/** The image containers the service decodes (sniffed from the leading bytes, never from the name). */
export type SupportedFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';
