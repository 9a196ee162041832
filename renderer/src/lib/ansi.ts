import Anser from 'anser';

export interface Span {
  text: string;
  fg: string | null;
  bg: string | null;
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

const ESC = '\u001b[';

/** Splits a line with ANSI escape codes into styled spans (plain lines skip the parser). */
export function ansiSpans(line: string): Span[] {
  if (!line.includes(ESC))
    return [{ text: line, fg: null, bg: null, bold: false, italic: false, underline: false }];
  return Anser.ansiToJson(line, { json: true, remove_empty: true, use_classes: false }).map((entry) => ({
    text: entry.content,
    fg: entry.fg ? `rgb(${entry.fg})` : null,
    bg: entry.bg ? `rgb(${entry.bg})` : null,
    bold: entry.decorations.includes('bold'),
    italic: entry.decorations.includes('italic'),
    underline: entry.decorations.includes('underline'),
  }));
}
