import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ANSI_PALETTE, ansiSpans, contrast, hexRgb, legible, xterm256 } from '../src/lib/ansi.ts';
import { variableValue } from '../src/lib/format.ts';

/** The log's backgrounds per theme, read from the stylesheet the app ships (so the two cannot drift). */
function logBackgrounds(): Record<'light' | 'dark', string[]> {
  const css = readFileSync(new URL('../src/styles.css', import.meta.url), 'utf8');
  const darkAt = css.indexOf('@media (prefers-color-scheme: dark)');
  const read = (text: string, name: string) =>
    new RegExp(`--${name}:\\s*(#[0-9a-f]{6})`, 'i').exec(text)![1]!;
  const light = css.slice(0, darkAt);
  const dark = css.slice(darkAt);
  return {
    light: [read(light, 'panel'), read(light, 'stderr-bg')],
    dark: [read(dark, 'panel'), read(dark, 'stderr-bg')],
  };
}

describe('ANSI colours in the log', () => {
  it('computes WCAG 2.x contrast ratios (reference values)', () => {
    expect(contrast([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 5);
    expect(contrast([255, 255, 255], [255, 255, 255])).toBe(1);
    // The figures the issue measured for anser's own blue and red on the dark log.
    expect(contrast([0, 0, 187], hexRgb('#1d2026'))).toBeCloseTo(1.33, 2);
    expect(contrast([187, 0, 0], hexRgb('#1d2026'))).toBeCloseTo(2.42, 2);
  });

  it('gives every one of the 16 colours at least 4.5:1 on the log and stderr rows, in both themes', () => {
    const backgrounds = logBackgrounds();
    const failing: string[] = [];
    for (const theme of ['light', 'dark'] as const) {
      expect(Object.keys(ANSI_PALETTE[theme])).toHaveLength(16);
      for (const [name, hex] of Object.entries(ANSI_PALETTE[theme]))
        for (const bg of backgrounds[theme]) {
          const ratio = contrast(hexRgb(hex), hexRgb(bg));
          if (ratio < 4.5) failing.push(`${theme} ${name} ${hex} on ${bg}: ${ratio.toFixed(2)}`);
        }
    }
    expect(failing).toEqual([]);
  });

  it('makes 256-colour and true colours legible too, keeping those that already are', () => {
    for (const theme of ['light', 'dark'] as const) {
      const bg = theme === 'light' ? [255, 255, 255] : hexRgb('#1d2026');
      for (let i = 16; i < 256; i++)
        expect(contrast(legible(xterm256(i), theme), bg)).toBeGreaterThanOrEqual(4.5);
    }
    expect(legible([0, 0, 0], 'light')).toEqual([0, 0, 0]);
    expect(legible([0, 0, 0], 'dark')).not.toEqual([0, 0, 0]);
  });

  it('colours a red span from the palette, not the terminal default', () => {
    const [red] = ansiSpans('\u001b[31mred\u001b[0m');
    const [r, g, b] = hexRgb(ANSI_PALETTE.light.red);
    expect(red!.fg).toBe(`rgb(${r}, ${g}, ${b})`);
    expect(ansiSpans('\u001b[38;2;10;10;10mx')[0]!.fg).toBe('rgb(10, 10, 10)');
  });
});

describe('variable values typed in the form', () => {
  it('keeps JSON types, takes plain text as a string, and refuses malformed JSON', () => {
    expect(variableValue('{"a": 1}')).toEqual({ value: { a: 1 } });
    expect(variableValue('42')).toEqual({ value: 42 });
    expect(variableValue('hello world')).toEqual({ value: 'hello world' });
    for (const bad of ['{"a": 1,}', '[1, 2', '"unterminated', '{oops}'])
      expect(variableValue(bad)).toMatchObject({ error: expect.stringMatching(/^Input must be valid JSON/) });
    expect(variableValue('   ')).toMatchObject({ error: expect.any(String) });
  });
});
