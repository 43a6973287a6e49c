import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthError } from '../../src/auth/auth-error.js';
import { OPEN_POLICY, allowListPolicy, authPolicyFromSettings, authorize, authorizeOwner, describePolicy } from '../../src/auth/policy.js';
import { generateUser } from '../../src/auth/user-identity.js';

const ann = generateUser('ann').userId;
const bob = generateUser('bob').userId;

function denied(fn: () => void, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof AuthError && err.code === 'DENIED' && err.status === 403 && pattern.test(err.message));
}

test('open allows every user every action', () => {
  authorize(OPEN_POLICY, ann, 'slice.create');
  authorize(OPEN_POLICY, bob, 'slice.delete');
  assert.equal(describePolicy(OPEN_POLICY), 'open');
});

test('an allow-list allows its users and denies others, naming the user, the action and the policy', () => {
  const policy = allowListPolicy([ann]);
  authorize(policy, ann, 'slice.create');
  denied(() => authorize(policy, bob, 'slice.create'), new RegExp(`^user ${bob} may not slice\\.create on this node: its policy is an allow-list of 1 user and ${bob} is not on it; ask the node's owner to add it to auth\\.allowUsers$`));
  denied(() => authorize(allowListPolicy([]), ann, 'slice.grow'), /allow-list of 0 users/);
  assert.equal(describePolicy(allowListPolicy([ann, bob, ann])), 'allow-list of 2 users');
});

test('allow-list entries must be user ids; actions must look like resource.verb', () => {
  assert.throws(() => allowListPolicy(['ann']), /auth\.allowUsers: "ann" is not a user id/);
  assert.throws(() => allowListPolicy([`pc${ann.slice(2)}`]), /is not a user id/, 'a node id is not a user id');
  assert.throws(() => authorize(OPEN_POLICY, ann, 'Create!'), /action must look like resource\.verb/);
});

test('settings: open with a list is a configuration mistake; allow-list builds the set', () => {
  assert.equal(authPolicyFromSettings({ policy: 'open', allowUsers: [] }), OPEN_POLICY);
  assert.throws(() => authPolicyFromSettings({ policy: 'open', allowUsers: [ann] }), /auth\.allowUsers lists 1 user\(s\) but auth\.policy is "open"/);
  const p = authPolicyFromSettings({ policy: 'allow-list', allowUsers: [ann] });
  assert.equal(p.mode, 'allow-list');
  authorize(p, ann, 'slice.create');
  assert.throws(() => authPolicyFromSettings({ policy: 'closed' as 'open', allowUsers: [] }), /auth\.policy must be one of "open", "allow-list"/);
});

test('ownership: only the owner may act on a resource', () => {
  authorizeOwner(ann, ann, 'slice.delete', 'slice web');
  denied(() => authorizeOwner(ann, bob, 'slice.delete', 'slice web'), new RegExp(`^user ${bob} may not slice\\.delete slice web: it belongs to user ${ann}$`));
});
