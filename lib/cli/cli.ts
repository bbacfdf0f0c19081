import { readFileSync } from 'node:fs';
import { CliFailure, UsageError, oneLine } from './shared/cli-errors.js';
import type { CliCommand } from './shared/cli-command.js';
import type { CliIo } from './shared/cli-io.js';
import { escapeControl } from './shared/terminal-text.js';
import { doctorCommand } from './doctor/doctor.command.js';
import { listenCommand } from './listen/listen.command.js';
import { replayCommand } from './replay/replay.command.js';
import { scenarioCommand } from './scenario/scenario.command.js';
import { signCommand } from './sign/sign.command.js';
import { triggerCommand } from './trigger/trigger.command.js';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [
  triggerCommand,
  scenarioCommand,
  doctorCommand,
  listenCommand,
  replayCommand,
  signCommand,
];

const TOOL = 'messente-dlr';

function toolHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `Usage: ${TOOL} <command> [options]

Try and debug a Messente delivery-report webhook (nestjs-messente-dlr) without Messente.

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Options:
  -h, --help       show this help (also: ${TOOL} <command> --help)
  -v, --version    print the version

Exit codes: 0 all good, 1 a check or an answer failed, 2 usage error.
--secret defaults to MESSENTE_API_PASSWORD. Colour only on a terminal, never with NO_COLOR.`;
}

/** The package's version, from its package.json. */
export function cliVersion(): string {
  // dist/cli/cli.js (and lib/cli/cli.ts) are two levels below the package root.
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * Runs `messente-dlr` with `argv` (without node and the script) and resolves with the exit
 * code. Every error ends as one line on stderr: exit 2 for usage errors, 1 otherwise.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  let command: CliCommand | undefined;
  try {
    if (first === undefined) {
      io.stderr.write(`${toolHelp()}\n`);
      return 2;
    }
    if (first === '--help' || first === '-h' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      const named = topic === undefined ? undefined : findCommand(topic);
      io.stdout.write(`${named ? named.help : toolHelp()}\n`);
      return 0;
    }
    if (first === '--version' || first === '-v' || first === '-V') {
      io.stdout.write(`${cliVersion()}\n`);
      return 0;
    }
    command = findCommand(first);
    if (wantsHelp(rest)) {
      io.stdout.write(`${command.help}\n`);
      return 0;
    }
    return await command.run([...rest], io);
  } catch (error) {
    // Messages may quote arguments, files and answers: escaped, so that each is one safe line.
    const where = command ? `${TOOL} ${command.name}` : TOOL;
    if (error instanceof UsageError) {
      const hint = command ? ` (see ${TOOL} ${command.name} --help)` : ` (see ${TOOL} --help)`;
      io.stderr.write(`${where}: ${escapeControl(error.message)}${hint}\n`);
      return 2;
    }
    if (error instanceof CliFailure) {
      io.stderr.write(`${where}: ${escapeControl(error.message)}\n`);
      return 1;
    }
    // A bug: still one line, unless asked for the stack.
    const detail =
      io.env['MESSENTE_DLR_DEBUG'] && error instanceof Error && error.stack
        ? error.stack.split('\n').map(escapeControl).join('\n')
        : escapeControl(oneLine(error));
    io.stderr.write(`${where}: unexpected error: ${detail}\n`);
    return 1;
  }
}

function findCommand(name: string): CliCommand {
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command) return command;
  if (name.startsWith('-')) throw new UsageError(`unknown option ${name}`);
  throw new UsageError(`unknown command '${name}'; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
}
