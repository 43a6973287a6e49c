/**
 * Node owners' authorization policy: who may use this machine. `open` lets any user with a valid
 * signature in (membership of the cloud is gated separately, by the join secret); `allow-list` lets
 * in only the listed user ids. The policy applies to every action alike today; `action` is passed
 * through so that messages name what was refused and so a finer policy can be added later without
 * changing callers.
 *
 * Ownership ("is this your slice?") is not a node owner's policy but a fact about the resource;
 * `authorizeOwner` gives it the same error shape.
 */
import { AuthError } from './auth-error.js';
import { isValidUserId } from './user-identity.js';

export const AUTH_POLICY_MODES = ['open', 'allow-list'] as const;
export type AuthPolicyMode = (typeof AUTH_POLICY_MODES)[number];

export type AuthPolicy =
  | { readonly mode: 'open' }
  | { readonly mode: 'allow-list'; readonly allowUsers: ReadonlySet<string> };

/**
 * What a user asks to do, as `<resource>.<verb>`, e.g. `slice.create`, `slice.grow`,
 * `slice.delete`; it appears in DENIED messages.
 */
export type AuthAction = string;

const ACTION_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

export const OPEN_POLICY: AuthPolicy = Object.freeze({ mode: 'open' });

/** An allow-list policy; every entry must be a user id (`pu…`, as `peercloud user show` prints). */
export function allowListPolicy(userIds: Iterable<string>): AuthPolicy {
  const allowUsers = new Set<string>();
  for (const id of userIds) {
    if (!isValidUserId(id)) {
      throw new RangeError(`auth.allowUsers: ${JSON.stringify(id)} is not a user id; expected pu followed by 32 base32 characters, as \`peercloud user show NAME\` prints`);
    }
    allowUsers.add(id);
  }
  return { mode: 'allow-list', allowUsers };
}

/** The policy for the suggested settings `auth.policy` and `auth.allowUsers` (see README.md). */
export function authPolicyFromSettings(settings: { readonly policy: AuthPolicyMode; readonly allowUsers: readonly string[] }): AuthPolicy {
  if (settings.policy === 'open') {
    // A list that would be silently ignored is almost certainly a mistake in the config.
    if (settings.allowUsers.length > 0) {
      throw new RangeError(`auth.allowUsers lists ${settings.allowUsers.length} user(s) but auth.policy is "open", which ignores the list; set auth.policy = "allow-list"`);
    }
    return OPEN_POLICY;
  }
  if (settings.policy === 'allow-list') return allowListPolicy(settings.allowUsers);
  throw new RangeError(`auth.policy must be one of ${AUTH_POLICY_MODES.map((m) => JSON.stringify(m)).join(', ')}, got ${JSON.stringify(settings.policy)}`);
}

/** One line for logs and messages: "open" or "allow-list of 3 users". */
export function describePolicy(policy: AuthPolicy): string {
  if (policy.mode === 'open') return 'open';
  const n = policy.allowUsers.size;
  return `allow-list of ${n} user${n === 1 ? '' : 's'}`;
}

/** Returns if `policy` lets `userId` do `action`; throws AuthError DENIED saying who, what and why not. */
export function authorize(policy: AuthPolicy, userId: string, action: AuthAction): void {
  checkAction(action);
  if (policy.mode === 'open') return;
  if (policy.allowUsers.has(userId)) return;
  throw new AuthError(
    'DENIED',
    `user ${userId} may not ${action} on this node: its policy is an ${describePolicy(policy)} and ${userId} is not on it; ask the node's owner to add it to auth.allowUsers`,
  );
}

/** Returns if `userId` owns the resource; throws DENIED naming the resource and its owner otherwise. */
export function authorizeOwner(ownerId: string, userId: string, action: AuthAction, resource: string): void {
  checkAction(action);
  if (ownerId === userId) return;
  throw new AuthError('DENIED', `user ${userId} may not ${action} ${resource}: it belongs to user ${ownerId}`);
}

function checkAction(action: AuthAction): void {
  if (!ACTION_PATTERN.test(action)) throw new RangeError(`action must look like resource.verb (e.g. slice.create), got ${JSON.stringify(action)}`);
}
