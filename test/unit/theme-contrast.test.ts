// The app's colours meet WCAG 2.1 AA (4.5:1 for text) in the light and the dark theme: every
// pair of a text colour and the background it is drawn on, read from styles.css's variables and
// measured with the WCAG relative-luminance formula.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('../../src-renderer/styles.css', import.meta.url), 'utf8');

function variables(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(/--([a-z-]+):\s*(#[0-9a-f]{6})\s*;/gi)) out[m[1]!] = m[2]!;
  return out;
}

const light = variables(/:root \{([\s\S]*?)\n\}/.exec(css)![1]!);
const darkBlock = /@media \(prefers-color-scheme: dark\) \{\s*:root \{([\s\S]*?)\}\s*\}/.exec(css);
const dark = { ...light, ...variables(darkBlock?.[1] ?? '') };

/** WCAG 2.1 relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** [text, background] as the stylesheet draws them. */
const PAIRS: Array<[string, string]> = [
  ['text', 'bg'],
  ['text', 'panel'],
  ['text', 'subtle'],
  ['muted', 'bg'],
  ['muted', 'panel'],
  ['muted', 'subtle'],
  ['muted', 'row-line'],
  ['accent', 'panel'],
  ['accent-text', 'accent-soft'],
  ['accent-text', 'panel'],
  ['ok', 'panel'],
  ['ok-text', 'ok-soft'],
  ['ok-text', 'panel'],
  ['bad', 'panel'],
  ['bad-text', 'bad-soft'],
  ['bad-text', 'panel'],
  ['bad-text', 'subtle'],
  ['warn', 'panel'],
  ['warn-text', 'warn-soft'],
];

describe('theme contrast', () => {
  it('the formula: black on white is 21:1, and the old green tick was below AA', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#16a34a', '#e8f7ee')).toBeCloseTo(2.98, 2);
  });

  it('the dark theme sets its own colour for every colour the light one has', () => {
    expect(darkBlock).not.toBeNull();
    const own = variables(darkBlock![1]!);
    // The sidebar is dark in both themes; the buttons' strong colours carry white text in both.
    const missing = Object.keys(light).filter((k) => !(k in own) && !/strong|nav-text/.test(k));
    expect(missing).toEqual([]);
  });

  for (const [name, theme] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    it(`${name}: every text colour on its background is at least 4.5:1`, () => {
      const low = PAIRS.map(([fg, bg]) => ({ fg, bg, ratio: contrast(theme[fg]!, theme[bg]!) })).filter(
        (p) => !(p.ratio >= 4.5),
      );
      expect(low).toEqual([]);
    });

    it(`${name}: white on the primary and danger buttons is at least 4.5:1`, () => {
      expect(contrast('#ffffff', theme['accent-strong']!)).toBeGreaterThanOrEqual(4.5);
      expect(contrast('#ffffff', theme['bad-strong']!)).toBeGreaterThanOrEqual(4.5);
    });
  }

  it('the status marks and badges use the text colours, not the bright ones', () => {
    for (const rule of ['.badge-done', '.checks .ok .tick', '.badge-running', '.badge-failed']) {
      const body = new RegExp(`${rule.replace(/\./g, '\\.')} \\{([^}]*)\\}`).exec(css)?.[1] ?? '';
      expect(body, rule).toMatch(/color: var\(--(ok|accent|bad)-text\)/);
    }
  });
});
