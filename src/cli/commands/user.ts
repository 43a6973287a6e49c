import { Command } from 'commander';
import {
  type PublicUser,
  type UserDirOptions,
  USER_DIR_ENV,
  UserKeyError,
  createUser,
  listUsers,
  loadUser,
  publicUser,
  resolveUserDir,
  userKeyPath,
} from '../../auth/user-identity.js';
import { formatTable } from '../output.js';
import { CliError } from './cli-error.js';

/** Where the commands write and what they read; tests pass their own. */
export interface UserCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const processIo: UserCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

interface UserOptions {
  userDir?: string;
  json?: boolean;
}

/** A user as `--json` prints it: the public half and where the key is. */
interface UserJson extends PublicUser {
  readonly keyFile: string;
}

/**
 * `peercloud user create|list|show`: the user keys that sign requests to the cloud. Keys live in
 * the user key directory, one `<NAME>.key` per user (see src/auth/user-identity.ts).
 */
export function userCommand(io: UserCommandIo = processIo): Command {
  const dirOptions = (opts: UserOptions): UserDirOptions => ({ userDir: opts.userDir, env: io.env });
  // Subcommands added with addCommand inherit nothing: each gets the exit override main.ts relies
  // on, and writes usage errors where `io` says.
  const subcommand = (name: string) =>
    new Command(name)
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      .showHelpAfterError('(run with --help for usage)')
      .option('--user-dir <path>', `user key directory (default: $${USER_DIR_ENV} or ~/.peercloud/users)`)
      .option('--json', 'print JSON instead of text');

  const user = new Command('user')
    .description('manage user keys: the Ed25519 keys that own slices and sign requests')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  user.addCommand(
    subcommand('create')
      .description('create a user key pair and print the user id')
      .argument('<name>', "local name of the key: lowercase letters, digits, '.', '_' or '-'")
      .addHelpText('after', '\nThe key file is created with mode 0600 and never replaced. Give the user id (pu...) to node owners\nwho keep an allow-list; the name stays on this machine.')
      .action(async (name: string, opts: UserOptions) => {
        const created = await run(() => createUser(name, dirOptions(opts)));
        const shown = userJson(publicUser(created), dirOptions(opts));
        if (opts.json) io.stdout(`${JSON.stringify(shown, null, 2)}\n`);
        else {
          io.stderr(`peercloud: created user ${name} in ${shown.keyFile}\n`);
          io.stdout(`${shown.userId}\n`);
        }
      }),
  );

  user.addCommand(
    subcommand('list')
      .description('list the user keys in the user key directory')
      .action(async (opts: UserOptions) => {
        const dir = await run(() => resolveUserDir(dirOptions(opts)));
        const entries = await run(() => listUsers(dirOptions(opts)));
        if (opts.json) {
          const users = entries.map((e) =>
            e.user ? userJson(publicUser(e.user), dirOptions(opts)) : { name: e.name, keyFile: e.path, error: { code: e.error.code, message: e.error.message } },
          );
          io.stdout(`${JSON.stringify({ userDir: dir, users }, null, 2)}\n`);
          return;
        }
        if (entries.length === 0) {
          io.stdout(`no users in ${dir}; create one with \`peercloud user create NAME\`\n`);
          return;
        }
        const rows = entries.map((e) => [e.name, e.user ? e.user.userId : `(unusable: ${e.error.code.toLowerCase()})`]);
        io.stdout(`${formatTable(['name', 'user id'], rows)}\n`);
        for (const e of entries) if (e.error) io.stderr(`peercloud: warning: ${e.error.message}\n`);
      }),
  );

  user.addCommand(
    subcommand('show')
      .description("print a user's id and public key (base64url)")
      .argument('<name>', 'the user, as given to user create')
      .action(async (name: string, opts: UserOptions) => {
        const loaded = await run(() => loadUser(name, dirOptions(opts)));
        const shown = userJson(publicUser(loaded), dirOptions(opts));
        if (opts.json) io.stdout(`${JSON.stringify(shown, null, 2)}\n`);
        else {
          const rows = [
            ['name', shown.name],
            ['user id', shown.userId],
            ['public key', shown.publicKey],
            ['key file', shown.keyFile],
          ];
          io.stdout(`${formatTable(['field', 'value'], rows)}\n`);
        }
      }),
  );
  return user;
}

function userJson(user: PublicUser, options: UserDirOptions): UserJson {
  return { ...user, keyFile: userKeyPath(user.name, options) };
}

/** Runs a user-key operation, turning its errors into CLI errors: bad names are usage errors (2). */
async function run<T>(operation: () => T | Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof UserKeyError) throw new CliError(err.message, err.code === 'BAD_NAME' ? 2 : 1);
    if (err instanceof RangeError) throw new CliError(err.message, 2);
    throw err;
  }
}
