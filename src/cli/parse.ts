/** Parsers for CLI values; each throws an InvalidArgumentError-compatible message naming the value. */
import { InvalidArgumentError } from 'commander';

export function parseInteger(name: string, min = -Infinity, max = Infinity) {
  return (text: string): number => {
    const v = Number(text.replace(/_/g, ''));
    if (!/^-?[\d_]+(e\d+)?$/i.test(text.trim()) || !Number.isInteger(v)) throw new InvalidArgumentError(`${name} must be an integer, got "${text}"`);
    if (v < min || v > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}, got ${v}`);
    return v;
  };
}

/** "5%", "0.05" → 0.05. */
export function parseFraction(name: string, allowOne = true) {
  return (text: string): number => {
    const t = text.trim();
    const v = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
    if (t === '' || !Number.isFinite(v) || v < 0 || v > 1 || (!allowOne && v === 1)) {
      throw new InvalidArgumentError(`${name} must be a fraction like 0.05 or 5% in [0, ${allowOne ? '1]' : '1)'}, got "${text}"`);
    }
    return v;
  };
}

/** "50%@30" or "0.5@30": kill that fraction just before that cycle. Repeatable. */
export function parseKill(text: string, previous: { fraction: number; cycle: number }[] = []) {
  const m = /^([^@]+)@(\d+)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`--kill expects FRACTION@CYCLE such as 50%@30, got "${text}"`);
  const fraction = parseFraction('--kill fraction')(m[1]);
  return [...previous, { fraction, cycle: Number(m[2]) }];
}

/** "MIN:MAX:PERIOD" for size oscillation. */
export function parseOscillation(text: string) {
  const m = /^(\d+):(\d+):(\d+)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`--oscillate expects MIN:MAX:PERIOD such as 9000:11000:100, got "${text}"`);
  const [min, max, period] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (min < 1 || max < min || period < 2) throw new InvalidArgumentError(`--oscillate needs 1 <= MIN <= MAX and PERIOD >= 2, got "${text}"`);
  return { min, max, period };
}

/** "key=value", repeatable, into a record. */
export function parseOption(text: string, previous: Record<string, string> = {}) {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`--opt expects KEY=VALUE, got "${text}"`);
  return { ...previous, [text.slice(0, at).trim()]: text.slice(at + 1).trim() };
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (text: string): T => {
    if (!(choices as readonly string[]).includes(text)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, got "${text}"`);
    return text as T;
  };
}
