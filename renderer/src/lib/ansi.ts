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

export type AnsiName =
  | 'black'
  | 'red'
  | 'green'
  | 'yellow'
  | 'blue'
  | 'magenta'
  | 'cyan'
  | 'white'
  | `bright-${'black' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'white'}`;

/**
 * The 16 ANSI colours per theme, chosen so each reads at 4.5:1 or more (WCAG 2.x AA) on the log's
 * background in that theme, stderr rows included (renderer/test checks this against styles.css). "Black"
 * in the dark theme and "white" in the light one are greys: the terminal originals would be invisible.
 */
export const ANSI_PALETTE: Record<'light' | 'dark', Record<AnsiName, string>> = {
  light: {
    black: '#24292f',
    red: '#b42318',
    green: '#116329',
    yellow: '#7d4e00',
    blue: '#0550ae',
    magenta: '#8250df',
    cyan: '#136f77',
    white: '#57606a',
    'bright-black': '#57606a',
    'bright-red': '#a40e26',
    'bright-green': '#1a7f37',
    'bright-yellow': '#633c01',
    'bright-blue': '#0969da',
    'bright-magenta': '#6639ba',
    'bright-cyan': '#0b6c72',
    'bright-white': '#424a53',
  },
  dark: {
    black: '#8b949e',
    red: '#ff7b72',
    green: '#3fb950',
    yellow: '#d29922',
    blue: '#58a6ff',
    magenta: '#d2a8ff',
    cyan: '#39c5cf',
    white: '#e6edf3',
    'bright-black': '#9da5b0',
    'bright-red': '#ffa198',
    'bright-green': '#56d364',
    'bright-yellow': '#e3b341',
    'bright-blue': '#a5d6ff',
    'bright-magenta': '#e2c5ff',
    'bright-cyan': '#56d4dd',
    'bright-white': '#ffffff',
  },
};

/** WCAG 2.x relative luminance of an sRGB colour given as [r, g, b], each 0–255. */
export function luminance([r, g, b]: readonly number[]): number {
  const [R, G, B] = [r!, g!, b!].map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * R! + 0.7152 * G! + 0.0722 * B!;
}

/** WCAG 2.x contrast ratio of two colours, from 1 (same) to 21 (black on white). */
export function contrast(a: readonly number[], b: readonly number[]): number {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/** '#rrggbb' → [r, g, b]. */
export function hexRgb(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/** The log's background in each theme (--panel in styles.css). */
const LOG_BACKGROUND = { light: [255, 255, 255], dark: [0x1d, 0x20, 0x26] } as const;

/**
 * A 256-colour or true colour from a script, moved towards the theme's text colour until it reads at
 * 4.5:1 on the log background (WCAG 2.x AA); colours that already do are kept as they are.
 */
export function legible(rgb: readonly number[], theme: 'light' | 'dark'): number[] {
  const bg = LOG_BACKGROUND[theme];
  const target = theme === 'dark' ? [255, 255, 255] : [0, 0, 0];
  let color = [...rgb];
  for (let step = 1; contrast(color, bg) < 4.5 && step <= 20; step++)
    color = rgb.map((c, i) => Math.round(c + ((target[i]! - c) * step) / 20));
  return color;
}

/** xterm's 256-colour palette above the 16 named colours: a 6×6×6 cube, then 24 greys. */
export function xterm256(index: number): number[] {
  if (index >= 232) {
    const v = 8 + (index - 232) * 10;
    return [v, v, v];
  }
  const i = index - 16;
  const level = (n: number) => (n === 0 ? 0 : 55 + n * 40);
  return [level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6)];
}

// One query list, read on each call: cheap, and it follows a theme switch.
const darkQuery = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
const theme = (): 'light' | 'dark' => (darkQuery?.matches ? 'dark' : 'light');

/** The named colours as CSS, per theme and anser class ('ansi-red' → 'rgb(…)'), made once. */
const NAMED_CSS = Object.fromEntries(
  (['light', 'dark'] as const).map((t) => [
    t,
    new Map(
      Object.entries(ANSI_PALETTE[t]).map(([name, hex]) => {
        const [r, g, b] = hexRgb(hex);
        return [`ansi-${name}`, `rgb(${r}, ${g}, ${b})`];
      }),
    ),
  ]),
) as Record<'light' | 'dark', Map<string, string>>;

/** A span colour as CSS: the 16 named ones from the theme's palette, others made legible. */
function cssColor(klass: string | null, truecolor: string | null): string | null {
  if (!klass) return null;
  if (klass === 'ansi-truecolor' && truecolor) {
    const [r, g, b] = legible(truecolor.split(',').map(Number), theme());
    return `rgb(${r}, ${g}, ${b})`;
  }
  const palette = /^ansi-palette-(\d+)$/.exec(klass);
  if (palette) {
    const [r, g, b] = legible(xterm256(Number(palette[1])), theme());
    return `rgb(${r}, ${g}, ${b})`;
  }
  return NAMED_CSS[theme()].get(klass) ?? null;
}

/** Splits a line with ANSI escape codes into styled spans (plain lines skip the parser). */
export function ansiSpans(line: string): Span[] {
  if (!line.includes(ESC))
    return [{ text: line, fg: null, bg: null, bold: false, italic: false, underline: false }];
  return Anser.ansiToJson(line, { json: true, remove_empty: true, use_classes: true }).map((entry) => ({
    text: entry.content,
    fg: cssColor(entry.fg, entry.fg_truecolor),
    bg: cssColor(entry.bg, entry.bg_truecolor),
    bold: entry.decorations.includes('bold'),
    italic: entry.decorations.includes('italic'),
    underline: entry.decorations.includes('underline'),
  }));
}
