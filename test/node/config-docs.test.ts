import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { describeConfig, loadConfig } from '../../src/node/config.js';

const docs = readFileSync(new URL('../../../docs/CONFIG.md', import.meta.url), 'utf8');

describe('describeConfig and docs/CONFIG.md', () => {
  const settings = describeConfig();

  it('every setting has a unique key, environment variable and flag, a type and a description', () => {
    for (const field of ['key', 'env', 'flag'] as const) {
      const values = settings.map((s) => s[field]);
      assert.equal(new Set(values).size, values.length, `duplicate ${field}`);
    }
    for (const s of settings) {
      assert.match(s.env, /^PEERCLOUD_[A-Z0-9_]+$/);
      assert.match(s.flag, /^--[a-z0-9-]+$/);
      assert.ok(s.type && s.expected && s.description, s.key);
    }
  });

  it('documents every setting in a table row with its environment variable, flag and default', () => {
    const rows = docs.split('\n').filter((l) => l.startsWith('| `'));
    for (const s of settings) {
      const row = rows.find((r) => r.startsWith(`| \`${s.key}\` |`));
      assert.ok(row, `docs/CONFIG.md has a row for ${s.key}`);
      assert.ok(row.includes(`\`${s.env}\``), `${s.key}: ${s.env} documented`);
      assert.ok(row.includes(`\`${s.flag}`), `${s.key}: ${s.flag} documented`);
      if (s.default && !s.default.includes(' ')) assert.ok(row.includes(`\`${s.default}\``), `${s.key}: default ${s.default} documented`);
    }
  });

  it('the example files load, and the TOML and YAML examples say the same', async () => {
    const blocks = [...docs.matchAll(/```(toml|yaml)\n([\s\S]*?)```/g)];
    assert.deepEqual(blocks.map((b) => b[1]), ['toml', 'yaml']);
    const dir = mkdtempSync(join(tmpdir(), 'peercloud-docs-'));
    try {
      const configs = await Promise.all(
        blocks.map(([, ext, text]) => {
          const file = join(dir, `example.${ext}`);
          writeFileSync(file, text);
          return loadConfig({ file, env: {}, homeDir: '/h', hostname: 'h' });
        }),
      );
      assert.deepEqual(configs[1], configs[0]);
      assert.equal(configs[0].join.length, 2);
      assert.ok(configs[0].join[0].nodeId, 'the pinned example has a well-formed node id');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
