import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, type ConfigIssue, type LoadConfigOptions, loadConfig, loadConfigDetailed } from '../../src/node/config.js';

const ID = 'pc' + 'abcdefghijklmnopqrstuvwxyz234567';
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'peercloud-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Loads with a fixed machine (home, host name, cwd) so defaults do not depend on where tests run. */
function load(options: LoadConfigOptions = {}) {
  return loadConfig({ homeDir: '/home/ann', hostname: 'box3.lab.example', cwd: '/work', env: {}, ...options });
}

/** The issues of a load that must fail. */
async function issuesOf(options: LoadConfigOptions): Promise<readonly ConfigIssue[]> {
  try {
    await load(options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('the configuration was accepted');
}

/** Exactly one issue, about `setting`, whose message names the source and says what was expected. */
async function oneIssue(options: LoadConfigOptions, setting: string, source: RegExp, problem?: RegExp): Promise<ConfigIssue> {
  const issues = await issuesOf(options);
  assert.equal(issues.length, 1, `expected one issue, got: ${issues.map((i) => i.problem).join(' | ')}`);
  const [issue] = issues;
  assert.equal(issue.setting, setting);
  let message = '';
  try {
    await load(options);
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, new RegExp(`^invalid configuration: ${setting.replace('.', '\\.')} \\(from `));
  assert.match(message, source);
  assert.match(message, /expected|did you mean|unknown setting/);
  if (problem) assert.match(issue.problem, problem);
  return issue;
}

describe('config defaults', () => {
  it('are safe (loopback only) and derived from the machine where they must be', async () => {
    const c = await load();
    assert.equal(c.dataDir, '/home/ann/.peercloud');
    assert.equal(c.name, 'box3');
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 7946 });
    assert.equal(c.advertise, undefined);
    assert.deepEqual(c.api, { host: '127.0.0.1', port: 7947 });
    assert.deepEqual(c.join, []);
    assert.equal(c.joinTrustOnFirstUse, true);
    assert.equal(c.cyclePeriodMs, 1000);
    assert.ok(c.cycleJitter > 0 && c.cycleJitter <= 0.5);
    assert.deepEqual(c.peerSampling, { protocol: 'newscast', viewSize: 20, shuffleLength: 8 });
    assert.deepEqual(c.aggregation, { epochLength: 30 });
    assert.deepEqual(c.labels, {});
    assert.equal(c.discovery.multicast, false);
    assert.equal(c.log.level, 'info');
    assert.deepEqual(c.limits, { maxConnections: 256, idleConnectionMs: 60_000, maxFrameBytes: 1024 * 1024, apiMaxBodyBytes: 64 * 1024 });
  });

  it('fall back to "node" when the host name cannot be a node name', async () => {
    assert.equal((await load({ hostname: '___' })).name, 'node');
  });
});

const TOML = `
name = "from-file"
dataDir = "data"
listen = "0.0.0.0:9000"
advertise = "192.168.1.20:9000"
join = ["${ID}@10.0.0.1:7946", "seed.lab.example"]
cyclePeriodMs = 2000

[peerSampling]
protocol = "cyclon"
viewSize = 20

[labels]
zone = "lab2"
rack = "r7"

[limits]
maxFrameBytes = "2MiB"

[log]
level = "debug"
`;

const YAML = `
name: from-file
dataDir: data
listen: 0.0.0.0:9000
advertise: 192.168.1.20:9000
join:
  - ${ID}@10.0.0.1:7946
  - seed.lab.example
cyclePeriodMs: 2000
peerSampling:
  protocol: cyclon
  viewSize: 20
labels:
  zone: lab2
  rack: r7
limits:
  maxFrameBytes: 2MiB
log:
  level: debug
`;

describe('config files', () => {
  it('TOML and YAML give the same configuration', async () => {
    const fromToml = await load({ file: await file('node.toml', TOML) });
    const fromYaml = await load({ file: await file('node.yaml', YAML) });
    const fromYml = await load({ file: await file('node.yml', YAML) });
    assert.deepEqual(fromYaml, fromToml);
    assert.deepEqual(fromYml, fromToml);
    assert.equal(fromToml.name, 'from-file');
    assert.deepEqual(fromToml.listen, { host: '0.0.0.0', port: 9000 });
    assert.deepEqual(fromToml.advertise, { host: '192.168.1.20', port: 9000 });
    assert.deepEqual(fromToml.join, [
      { nodeId: ID, host: '10.0.0.1', port: 7946 },
      { host: 'seed.lab.example', port: 7946 },
    ]);
    assert.equal(fromToml.peerSampling.protocol, 'cyclon');
    assert.equal(fromToml.peerSampling.viewSize, 20);
    assert.deepEqual(fromToml.labels, { zone: 'lab2', rack: 'r7' });
    assert.equal(fromToml.limits.maxFrameBytes, 2 * 1024 * 1024);
    assert.equal(fromToml.log.level, 'debug');
  });

  it('resolves relative paths against the file, and ~ against home', async () => {
    assert.equal((await load({ file: await file('rel.toml', 'dataDir = "d/x"') })).dataDir, join(dir, 'd/x'));
    assert.equal((await load({ file: await file('home.toml', 'dataDir = "~/pc"') })).dataDir, '/home/ann/pc');
    // From a flag or the environment, relative paths start from the working directory.
    assert.equal((await load({ flags: { 'data-dir': 'd' } })).dataDir, '/work/d');
    assert.equal((await load({ env: { PEERCLOUD_DATA_DIR: '~/e' } })).dataDir, '/home/ann/e');
  });

  it('is found through --config or PEERCLOUD_CONFIG when not given', async () => {
    const path = await file('via.toml', 'name = "via-file"');
    assert.equal((await load({ flags: { config: path } })).name, 'via-file');
    assert.equal((await load({ env: { PEERCLOUD_CONFIG: path } })).name, 'via-file');
  });

  it('an empty YAML file is an empty configuration', async () => {
    assert.equal((await load({ file: await file('empty.yaml', '') })).listen.port, 7946);
  });

  it('unknown keys are errors with a suggestion, in tables too', async () => {
    const path = await file('typo.toml', 'data_dir = "x"\n[peerSampling]\nviewsize = 3\n[peersampling]\n');
    const issues = await issuesOf({ file: path });
    assert.deepEqual(
      issues.map((i) => i.setting),
      ['data_dir', 'peerSampling.viewsize', 'peersampling'],
    );
    assert.match(issues[0].problem, /unknown setting; did you mean dataDir\?/);
    assert.match(issues[1].problem, /did you mean peerSampling\.viewSize\?/);
    assert.match(issues[2].problem, /did you mean peerSampling\?/);
    for (const i of issues) assert.deepEqual(i.source, { kind: 'file', path, key: i.setting });
  });

  it('syntax errors name the file and the line', async () => {
    const toml = await file('bad.toml', 'name = "ok"\nlisten = \n');
    const t = await oneIssue({ file: toml }, 'config file', new RegExp(`config file ${toml.replace(/[.]/g, '\\.')}`), /syntax error: line 2/);
    assert.equal(t.expected, 'valid TOML');
    const yaml = await file('bad.yaml', 'name: ok\nlabels: [a\n');
    await oneIssue({ file: yaml }, 'config file', /bad\.yaml/, /syntax error: line \d/);
    const dup = await file('dup.yaml', 'name: a\nname: b\n');
    await oneIssue({ file: dup }, 'config file', /dup\.yaml/, /syntax error/);
  });

  it('a missing file, an unknown extension or a non-table top level is an error', async () => {
    await oneIssue({ file: join(dir, 'nope.toml') }, 'config file', /nope\.toml/, /does not exist/);
    await oneIssue({ file: await file('node.ini', 'x=1') }, 'config file', /node\.ini/, /unknown extension/);
    await oneIssue({ file: await file('list.yaml', '- a\n- b\n') }, 'config file', /list\.yaml/, /top level/);
  });

  it('a table where a group belongs, or a wrong type, is named with file and key', async () => {
    const path = await file('types.toml', 'peerSampling = 3\ncyclePeriodMs = "fast"\ndiscovery = { multicast = "yes" }\n');
    const issues = await issuesOf({ file: path });
    assert.deepEqual(
      issues.map((i) => [i.setting, i.source.kind === 'file' ? i.source.key : '']),
      [
        ['peerSampling', 'peerSampling'],
        ['cyclePeriodMs', 'cyclePeriodMs'],
        ['discovery.multicast', 'discovery.multicast'],
      ],
    );
    assert.match(issues[1].problem, /got "fast"/);
    assert.match(issues[1].expected, /integer from 50 to 600000/);
    assert.match(issues[2].expected, /true or false/);
  });
});

describe('config precedence: file < environment < flags', () => {
  it('for every kind of setting, the higher source wins and origins say which', async () => {
    const path = await file('prec.toml', TOML);
    const env = {
      PEERCLOUD_NAME: 'from-env',
      PEERCLOUD_PEER_SAMPLING_VIEW_SIZE: '25',
      PEERCLOUD_LISTEN: '127.0.0.2:9100',
      PEERCLOUD_LOG_LEVEL: 'warn',
      PEERCLOUD_DISCOVERY_MULTICAST: 'on',
      PEERCLOUD_JOIN: '127.0.0.9:1',
      PEERCLOUD_LIMITS_MAX_FRAME_BYTES: '512KiB',
    };
    const flags = { name: 'from-flag', 'view-size': '28', logLevel: 'error', multicast: false };

    const fileOnly = await loadConfigDetailed({ homeDir: '/h', hostname: 'h', cwd: '/w', file: path });
    assert.equal(fileOnly.config.peerSampling.viewSize, 20);
    assert.deepEqual(fileOnly.origins['peerSampling.viewSize'], { kind: 'file', path, key: 'peerSampling.viewSize' });
    assert.equal(fileOnly.file, path);

    const withEnv = await loadConfigDetailed({ homeDir: '/h', hostname: 'h', cwd: '/w', file: path, env });
    assert.equal(withEnv.config.name, 'from-env');
    assert.equal(withEnv.config.peerSampling.viewSize, 25);
    assert.deepEqual(withEnv.config.listen, { host: '127.0.0.2', port: 9100 });
    assert.equal(withEnv.config.log.level, 'warn');
    assert.equal(withEnv.config.discovery.multicast, true);
    assert.deepEqual(withEnv.config.join, [{ host: '127.0.0.9', port: 1 }], 'lists are replaced, not merged');
    assert.equal(withEnv.config.limits.maxFrameBytes, 512 * 1024);
    assert.equal(withEnv.config.peerSampling.protocol, 'cyclon', 'settings the env does not name keep the file value');
    assert.deepEqual(withEnv.origins['peerSampling.viewSize'], { kind: 'env', name: 'PEERCLOUD_PEER_SAMPLING_VIEW_SIZE' });

    const withFlags = await loadConfigDetailed({ homeDir: '/h', hostname: 'h', cwd: '/w', file: path, env, flags });
    assert.equal(withFlags.config.name, 'from-flag');
    assert.equal(withFlags.config.peerSampling.viewSize, 28);
    assert.equal(withFlags.config.log.level, 'error');
    assert.equal(withFlags.config.discovery.multicast, false);
    assert.deepEqual(withFlags.config.listen, { host: '127.0.0.2', port: 9100 });
    assert.deepEqual(withFlags.origins['peerSampling.viewSize'], { kind: 'flag', name: 'view-size' });
    assert.deepEqual(withFlags.origins['log.level'], { kind: 'flag', name: 'log-level' });
    assert.deepEqual(withFlags.origins.cyclePeriodMs, { kind: 'file', path, key: 'cyclePeriodMs' });
    assert.deepEqual(withFlags.origins['slicing.slices'], { kind: 'default' });
  });

  it('labels merge key by key, the higher source winning a key', async () => {
    const path = await file('labels.toml', '[labels]\nzone = "lab2"\nrack = "r7"\n');
    const c = await load({ file: path, env: { PEERCLOUD_LABELS: 'rack=r8,gpu=none' }, flags: { label: ['gpu=a100', 'owner=ann'] } });
    assert.deepEqual(c.labels, { zone: 'lab2', rack: 'r8', gpu: 'a100', owner: 'ann' });
    assert.deepEqual((await load({ flags: { label: 'a=1,b=2' } })).labels, { a: '1', b: '2' });
    assert.deepEqual((await load({ flags: { label: ['a=1,b=2', 'c=3'] } })).labels, { a: '1', b: '2', c: '3' });
    assert.deepEqual(
      (await load({ flags: { join: ['127.0.0.1:1,127.0.0.1:2', '127.0.0.1:3'] } })).join.map((t) => t.port),
      [1, 2, 3],
    );
  });

  it('accepts commander-style flags: camelCase names, typed booleans, numbers and arrays', async () => {
    const c = (await load({
      flags: { dataDir: '/srv/pc', cyclePeriodMs: 500, joinTrustOnFirstUse: false, join: [`${ID}@[::1]:7000`], multicast: true, maxFrameBytes: 65536, unrelated: 'x' },
    }));
    assert.equal(c.dataDir, '/srv/pc');
    assert.equal(c.cyclePeriodMs, 500);
    assert.equal(c.joinTrustOnFirstUse, false);
    assert.deepEqual(c.join, [{ nodeId: ID, host: '::1', port: 7000 }]);
    assert.equal(c.discovery.multicast, true);
    assert.equal(c.limits.maxFrameBytes, 65536);
  });

  it('an empty environment variable counts as unset', async () => {
    assert.equal((await load({ env: { PEERCLOUD_NAME: '' } })).name, 'box3');
  });

  it('warns about unknown PEERCLOUD_ variables, with a suggestion, and ignores others', async () => {
    const warnings: string[] = [];
    await load({ env: { PEERCLOUD_VIEW_SIZE: '5', PEERCLOUD_LOG_LEVLE: 'debug', HOME: '/x', PEERCLOUD_CONFIG: '' }, onWarning: (m) => warnings.push(m) });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /PEERCLOUD_VIEW_SIZE.*did you mean PEERCLOUD_PEER_SAMPLING_VIEW_SIZE/);
    assert.match(warnings[1], /PEERCLOUD_LOG_LEVLE.*did you mean PEERCLOUD_LOG_LEVEL/);
  });
});

describe('config values', () => {
  it('parses addresses: IPv4, bracketed IPv6, host names, default ports, port 0 for binds', async () => {
    assert.deepEqual((await load({ flags: { listen: '[::1]:7000' } })).listen, { host: '::1', port: 7000 });
    assert.deepEqual((await load({ flags: { listen: '::' , advertise: 'node3.lab:7946' } })).listen, { host: '::', port: 7946 });
    assert.deepEqual((await load({ flags: { listen: 'LocalHost:0' } })).listen, { host: 'localhost', port: 0 });
    assert.deepEqual((await load({ flags: { api: '127.0.0.1' } })).api, { host: '127.0.0.1', port: 7947 });
    assert.deepEqual((await load({ flags: { join: `seed.example:8000, ${ID}@127.0.0.1` } })).join, [
      { host: 'seed.example', port: 8000 },
      { nodeId: ID, host: '127.0.0.1', port: 7946 },
    ]);
  });

  // One row per kind of bad value: [options, setting, source in the message, problem].
  const bad: Array<[string, LoadConfigOptions, string, RegExp, RegExp]> = [
    ['non-integer', { env: { PEERCLOUD_CYCLE_PERIOD_MS: '1s' } }, 'cyclePeriodMs', /environment variable PEERCLOUD_CYCLE_PERIOD_MS/, /"1s" is not a decimal integer/],
    ['integer out of range', { flags: { 'view-size': '300' } }, 'peerSampling.viewSize', /flag --view-size/, /300 is out of range/],
    ['typed integer out of range', { flags: { cyclePeriodMs: 10 } }, 'cyclePeriodMs', /flag --cycle-period-ms/, /got 10/],
    ['fraction out of range', { env: { PEERCLOUD_CYCLE_JITTER: '0.9' } }, 'cycleJitter', /PEERCLOUD_CYCLE_JITTER/, /0\.9 is out of range/],
    ['not a number', { env: { PEERCLOUD_CYCLE_JITTER: 'lots' } }, 'cycleJitter', /PEERCLOUD_CYCLE_JITTER/, /"lots" is not a number/],
    ['bad boolean', { env: { PEERCLOUD_DISCOVERY_MULTICAST: 'maybe' } }, 'discovery.multicast', /PEERCLOUD_DISCOVERY_MULTICAST/, /"maybe" is not a boolean/],
    ['bad choice', { flags: { 'peer-sampling': 'gossip' } }, 'peerSampling.protocol', /flag --peer-sampling/, /"gossip" is not a choice/],
    ['bad log level', { env: { PEERCLOUD_LOG_LEVEL: 'verbose' } }, 'log.level', /PEERCLOUD_LOG_LEVEL/, /"verbose"/],
    ['bad name', { flags: { name: 'my node!' } }, 'name', /flag --name/, /"my node!" is not a valid name/],
    ['empty path', { flags: { 'data-dir': ' ' } }, 'dataDir', /flag --data-dir/, /empty/],
    ['port too large', { flags: { listen: '127.0.0.1:70000' } }, 'listen', /flag --listen/, /port 70000 is above 65535/],
    ['port not a number', { env: { PEERCLOUD_API: '127.0.0.1:http' } }, 'api', /PEERCLOUD_API/, /port "http" is not a number/],
    ['IPv6 with port, no brackets', { flags: { listen: '::1:7000:x' } }, 'listen', /flag --listen/, /\[address\]:port/],
    ['bad host name', { flags: { advertise: 'bad_host!:7946' } }, 'advertise', /flag --advertise/, /"bad_host!"/],
    ['unspecified advertise', { flags: { advertise: '0.0.0.0:7946' } }, 'advertise', /flag --advertise/, /unspecified address/],
    ['advertise port 0', { flags: { advertise: '10.0.0.1:0' } }, 'advertise', /flag --advertise/, /port 0/],
    ['join with bad node id', { flags: { join: 'pcXYZ@127.0.0.1:7946' } }, 'join', /flag --join/, /"pcXYZ" before "@" is not a node id/],
    ['join to a multicast address', { env: { PEERCLOUD_JOIN: '224.0.0.1:7946' } }, 'join', /PEERCLOUD_JOIN/, /multicast/],
    ['not a multicast group', { flags: { 'multicast-group': '10.0.0.1:7948' } }, 'discovery.multicastGroup', /flag --multicast-group/, /not a multicast IP address/],
    ['label without =', { flags: { label: ['zone'] } }, 'labels', /flag --label/, /"zone" is not key=value/],
    ['bad label key', { env: { PEERCLOUD_LABELS: 'Zone=x' } }, 'labels', /PEERCLOUD_LABELS/, /label key "Zone"/],
    ['reserved label key', { flags: { label: 'peercloud.cores=9' } }, 'labels', /flag --label/, /reserved prefix/],
    ['bad label value', { flags: { label: 'zone=two words' } }, 'labels', /flag --label/, /value "two words"/],
    ['too many labels', { flags: { label: Array.from({ length: 40 }, (_, i) => `k${i}=v`) } }, 'labels', /flag --label/, /40 labels, at most 32/],
    ['bad size unit', { env: { PEERCLOUD_LIMITS_MAX_FRAME_BYTES: '2 parsecs' } }, 'limits.maxFrameBytes', /PEERCLOUD_LIMITS_MAX_FRAME_BYTES/, /not a size/],
    ['size out of range', { flags: { 'max-frame-bytes': '1GiB' } }, 'limits.maxFrameBytes', /flag --max-frame-bytes/, /1GiB is out of range/],
  ];
  for (const [what, options, setting, source, problem] of bad) {
    it(`rejects ${what}, naming ${setting}, its source and what was expected`, async () => {
      const issue = await oneIssue(options, setting, source, problem);
      assert.ok(issue.expected.length > 0, 'says what was expected');
    });
  }

  it('reports every bad value at once', async () => {
    const issues = await issuesOf({ env: { PEERCLOUD_CYCLE_PERIOD_MS: 'x', PEERCLOUD_LOG_LEVEL: 'y' }, flags: { 'view-size': '1' } });
    assert.deepEqual(issues.map((i) => i.setting).sort(), ['cyclePeriodMs', 'log.level', 'peerSampling.viewSize']);
  });

  it('a value from a file with the wrong type names file and key', async () => {
    const path = await file('wrongtype.yaml', 'labels:\n  zone: [1, 2]\n');
    await oneIssue({ file: path }, 'labels', /wrongtype\.yaml, key labels/, /value must be a string/);
  });
});

describe('config rules between settings', () => {
  it('listening on all interfaces needs an advertise address', async () => {
    const issue = await oneIssue({ flags: { listen: '0.0.0.0:7946' } }, 'advertise', /flag --listen/, /all interfaces/);
    assert.match(issue.expected, /advertise/);
    assert.deepEqual((await load({ flags: { listen: '0.0.0.0:7946', advertise: '10.1.2.3' } })).advertise, { host: '10.1.2.3', port: 7946 });
  });

  it('a Cyclon shuffle cannot be longer than the view', async () => {
    const issue = await oneIssue({ env: { PEERCLOUD_PEER_SAMPLING_PROTOCOL: 'cyclon', PEERCLOUD_PEER_SAMPLING_SHUFFLE_LENGTH: '10' }, flags: { 'view-size': '6' } }, 'peerSampling.shuffleLength', /PEERCLOUD_PEER_SAMPLING_SHUFFLE_LENGTH/, /larger than the view \(peerSampling\.viewSize = 6 from flag --view-size\)/);
    assert.ok(issue);
  });

  it('the API cannot share the node-to-node port', async () => {
    await oneIssue({ flags: { listen: '127.0.0.1:8000', api: '127.0.0.1:8000' } }, 'api', /flag --api/, /node-to-node address too/);
    assert.equal((await load({ flags: { listen: '127.0.0.1:0', api: '127.0.0.1:0' } })).api.port, 0, 'port 0 twice is fine');
  });

  it('without trust on first use, every join entry needs a node id', async () => {
    await oneIssue({ flags: { join: `${ID}@127.0.0.1:1,127.0.0.1:2`, 'join-trust-on-first-use': 'false' } }, 'join', /flag --join/, /127\.0\.0\.1:2 has no node id/);
    assert.equal((await load({ flags: { join: `${ID}@127.0.0.1:1`, 'join-trust-on-first-use': 'no' } })).join.length, 1);
  });
});
