/**
 * Colours of the graph, checked for contrast against the page. WCAG 2.1 asks 3:1 for graphical
 * objects one needs to read a figure (1.4.11) and 4.5:1 for text (1.4.3). Slice colours come from
 * model.ts's colour-blind-safe palette, some of which are too light on white (#e69f00 is ~2:1),
 * so strokes and fills use `withContrast`: the same hue, darkened until it passes.
 */
import { color as parse, hsl, rgb, type RGBColor } from 'd3-color';

/** The dashboard's page background (the lead's styles.css). */
export const BACKGROUND = '#ffffff';
export const GRAPHIC_CONTRAST = 3;
export const TEXT_CONTRAST = 4.5;

export const COLORS = {
  /** Live nodes outside any slice. */
  live: '#455a64',
  unreachable: '#b3261e',
  unknown: '#6b6b6b',
  /** Outline of the node serving the dashboard. */
  self: '#000000',
  /** Highlight ring of the selected node and its links. */
  selected: '#6a1b9a',
  viewLink: '#5f6b73',
  label: '#1b1b1b',
  labelHalo: '#ffffff',
} as const;

/**
 * Parses a CSS colour with d3-color, which knows the comma syntax (`hsl(295, 65%, 50%)`) but not
 * CSS Color 4's spaces (`hsl(295 65% 50%)`, what model.ts's sliceColor makes past ten slices):
 * those are rewritten with commas first. Throws on anything else.
 */
export function parseColor(text: string): RGBColor {
  let c = parse(text);
  const m = c ? null : /^\s*(rgb|hsl)a?\(\s*([^\s,()/]+)\s+([^\s,()/]+)\s+([^\s,()/]+)\s*(?:\/\s*([\d.]+)(%?)\s*)?\)\s*$/i.exec(text);
  if (m) {
    const alpha = m[5] === undefined ? 1 : Number(m[5]) / (m[6] ? 100 : 1);
    c = parse(`${m[1]}a(${m[2]}, ${m[3]}, ${m[4]}, ${alpha})`);
  }
  if (!c) throw new Error(`not a colour: ${text}`);
  return c.rgb();
}

/** WCAG relative luminance of a CSS colour. */
export function relativeLuminance(color: string): number {
  const c = parseColor(color);
  const channel = (v: number) => {
    const s = Math.min(255, Math.max(0, v)) / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

/** WCAG contrast ratio, 1..21. */
export function contrastRatio(a: string, b: string): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * `color` if it reaches `min` contrast against `background`, else the same hue with less
 * lightness, in small steps, until it does (black at worst). Returns #rrggbb.
 */
export function withContrast(color: string, background: string = BACKGROUND, min: number = GRAPHIC_CONTRAST): string {
  const c = hsl(parseColor(color));
  const darkBackground = relativeLuminance(background) < 0.18;
  for (let i = 0; i < 100; i++) {
    const hex = c.formatHex();
    if (contrastRatio(hex, background) >= min) return hex;
    c.l = darkBackground ? Math.min(1, c.l + 0.01) : Math.max(0, c.l - 0.01);
  }
  return darkBackground ? '#ffffff' : '#000000';
}

/** `color` at `alpha` as an rgba() string, for fading and faint links. */
export function withAlpha(color: string, alpha: number): string {
  const c = parseColor(color);
  c.opacity = alpha;
  return c.formatRgb();
}

/** What `color` at `alpha` looks like painted over `background`, as #rrggbb (for contrast checks). */
export function blend(color: string, alpha: number, background: string = BACKGROUND): string {
  const c = parseColor(color);
  const b = parseColor(background);
  return rgb(c.r * alpha + b.r * (1 - alpha), c.g * alpha + b.g * (1 - alpha), c.b * alpha + b.b * (1 - alpha)).formatHex();
}

/** Unreachable nodes fade from opaque to FADE_FLOOR over FADE_MS after they die (≥ 3:1 kept). */
export const FADE_FLOOR = 0.6;
export const FADE_MS = 8000;

export function fadeOpacity(msSinceDeath: number): number {
  return Math.max(FADE_FLOOR, 1 - ((1 - FADE_FLOOR) * Math.max(0, msSinceDeath)) / FADE_MS);
}

/**
 * Opacity of view links: faint when there are many (their density shows the mesh; one link alone
 * is then below 3:1, as the issue asks for faint links), 3:1 when there are few.
 */
export function viewLinkAlpha(total: number): number {
  return Math.min(0.8, Math.max(0.12, 300 / Math.max(1, total)));
}
