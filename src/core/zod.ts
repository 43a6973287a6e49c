/**
 * The zod every module uses: `zod/mini` (zod 4's functional API: `z.optional(s)`,
 * `s.check(z.maxLength(n))`, `z.pipe(s, z.transform(f))`), with English error messages. Import
 * zod from here, never from 'zod' or 'zod/mini', so that the locale is always configured.
 *
 * Why mini: issue 3 budgets 60 MiB of resident memory per daemon, which ships as a tree-shaken
 * bundle (scripts/build-cli.mjs). Classic zod ('zod') cannot be tree-shaken, and each classic
 * schema instance carries dozens of method closures: measured, a small schema set cost +3.4 MiB in
 * the daemon with classic and +0.7 MiB with mini.
 *
 * Why the locale: classic registers English messages by itself, mini registers none, so every
 * message would read "Invalid input". Some of zod's messages reach people: a malformed slice
 * message, slice spec or snapshot is refused with zod's first issue ("rank.order: Invalid
 * option: ..."). Only English is bundled (zod/locales is free of side effects, so the bundler
 * drops the other locales).
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
