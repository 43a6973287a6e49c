/**
 * Config files: TOML (.toml) or YAML (.yaml, .yml), chosen by extension, parsed by smol-toml and
 * yaml, then walked into (setting key, raw value) pairs. Unknown keys are errors with a suggestion:
 * a typo in a config file should not silently fall back to a default.
 *
 * The parsers are imported when a file of their kind is read: most daemons have no config file,
 * and the YAML parser alone costs a daemon ~0.7 MiB of resident memory for good.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type ConfigIssue, suggest } from './config-errors.js';
import { SETTINGS, SETTING_GROUPS, SETTING_KEYS, type SettingKey } from './config-settings.js';
import { showValue } from './config-values.js';

export const CONFIG_FILE_EXTENSIONS = ['.toml', '.yaml', '.yml'] as const;

export interface FileEntry {
  readonly key: SettingKey;
  readonly value: unknown;
}

/** Parses the file into a plain object; a single issue when it cannot be read or parsed. */
export async function readConfigFile(path: string): Promise<Record<string, unknown> | ConfigIssue> {
  const source = { kind: 'file', path, key: '(whole file)' } as const;
  const ext = extname(path).toLowerCase();
  if (!(CONFIG_FILE_EXTENSIONS as readonly string[]).includes(ext)) {
    return { setting: 'config file', source, problem: `unknown extension ${showValue(ext || '(none)')}`, expected: 'a .toml, .yaml or .yml file' };
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'the file does not exist' : `cannot read the file (${code ?? (err as Error).message})`;
    return { setting: 'config file', source, problem, expected: 'a readable .toml, .yaml or .yml file' };
  }
  let doc: unknown;
  if (ext === '.toml') {
    const { TomlError, parse } = await import('smol-toml');
    try {
      doc = parse(text);
    } catch (err) {
      const where = err instanceof TomlError ? `line ${err.line}, column ${err.column}: ` : '';
      return syntaxError(source, `${where}${firstLine(err)}`, 'valid TOML');
    }
  } else {
    const { YAMLParseError, parse } = await import('yaml');
    try {
      // YAML 1.2 core schema (the yaml package's default): `no` and `off` stay strings, and duplicate
      // keys are errors rather than "last one wins".
      doc = parse(text, { uniqueKeys: true, prettyErrors: true });
    } catch (err) {
      const pos = err instanceof YAMLParseError ? err.linePos?.[0] : undefined;
      return syntaxError(source, `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${firstLine(err)}`, 'valid YAML');
    }
  }
  if (doc === null || doc === undefined) return {}; // an empty YAML file
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    return { setting: 'config file', source, problem: `the top level is ${showValue(doc)}`, expected: 'a table of settings' };
  }
  return doc as Record<string, unknown>;
}

function syntaxError(source: ConfigIssue['source'], text: string, expected: string): ConfigIssue {
  return { setting: 'config file', source, problem: `syntax error: ${text}`, expected };
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

const GROUP_KEYS: ReadonlyMap<string, readonly string[]> = new Map(
  [...SETTING_GROUPS].map((g) => [g, SETTING_KEYS.filter((k) => k.startsWith(`${g}.`)).map((k) => k.slice(g.length + 1))]),
);

/** Walks a parsed file into setting values; unknown keys and misplaced tables become issues. */
export function fileEntries(doc: Record<string, unknown>, path: string): { entries: FileEntry[]; issues: ConfigIssue[] } {
  const entries: FileEntry[] = [];
  const issues: ConfigIssue[] = [];
  const unknown = (key: string, known: Iterable<string>, prefix = ''): void => {
    const hint = suggest(key, known);
    issues.push({
      setting: prefix + key,
      source: { kind: 'file', path, key: prefix + key },
      problem: `unknown setting${hint ? `; did you mean ${prefix}${hint}?` : ''}`,
      expected: '',
    });
  };
  const topLevel = [...SETTING_KEYS.filter((k) => !k.includes('.')), ...SETTING_GROUPS];
  for (const [key, value] of Object.entries(doc)) {
    if (Object.hasOwn(SETTINGS, key) && !SETTING_GROUPS.has(key)) {
      entries.push({ key: key as SettingKey, value });
    } else if (SETTING_GROUPS.has(key)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        issues.push({ setting: key, source: { kind: 'file', path, key }, problem: `is ${showValue(value)}`, expected: `a table of ${key} settings` });
        continue;
      }
      const known = GROUP_KEYS.get(key) ?? [];
      for (const [sub, subValue] of Object.entries(value as Record<string, unknown>)) {
        if (known.includes(sub)) entries.push({ key: `${key}.${sub}` as SettingKey, value: subValue });
        else unknown(sub, known, `${key}.`);
      }
    } else {
      unknown(key, topLevel);
    }
  }
  return { entries, issues };
}
