/**
 * The srun command line for one node process, and the script its task runs
 * (pure).
 *
 * `srun --overlap -N1 -n1 -w NODE -QQ -J expert /bin/sh -c SCRIPT expert-srun NONCE COMMAND`:
 * - `--overlap`: beside every other step of the allocation (monitors, workloads, Tune);
 * - `-QQ`: srun prints nothing of its own, so its stderr is the task's stderr byte for byte
 *   (with one -Q it still appends "srun: error: NODE: task 0: Exited with exit code N");
 * - no `--unbuffered`: with it Slurm 22.05 gives the task a pseudo-terminal (programs see a
 *   TTY and change what they print, e.g. fio's ETA lines); without it the task writes to
 *   pipes, as over SSH, and srun forwards each complete line as it arrives (partial lines
 *   wait for their newline, which the line splitter would wait for anyway);
 * - no `--label`: it cuts lines longer than Slurm's I/O buffer into labelled pieces.
 *
 * The script, on the node:
 *   1. prints `EXPERT-SRUN-<nonce> step <job>.<step> <pid>` on stdout (the client strips it):
 *      the step id is what `scancel` needs to stop the whole step;
 *   2. sets the environment and folder;
 *   3. where perl exists (Debian's perl-base is essential), execs a tiny reporter that runs
 *      `/bin/sh -c COMMAND` as its child (in a process group of its own) and, once the child
 *      ended, prints `EXPERT-SRUN-<nonce> exit code N` or `... exit signal N`: srun alone
 *      reports a signal as exit code 128+N, which a program may also exit with;
 *      elsewhere it execs the command (exit codes exact, a signal shows as 128+N).
 *      A signal for the step reaches only its task, the reporter: Slurm's proctrack/cgroup
 *      sends every signal but KILL to the processes whose parent is slurmstepd (measured:
 *      `scancel -s TERM` of the step left `sh -c 'vmstat 1'` and vmstat running, the step
 *      listed, until the KILL). So the reporter passes INT, TERM, HUP, QUIT, USR1, USR2 and
 *      ALRM on the way tree_signal does over SSH (ssh/remote-command.ts): the child first (so
 *      the shell reports that signal), then its descendants found in /proc, then its group.
 *      A signal the task inherited as ignored stays ignored; PIPE is the reporter's own.
 * The nonce makes the markers impossible to print by accident.
 */
import { quote } from '../../shell.js';
import { UserError } from '../../errors.js';

export const MARKER_PREFIX = 'EXPERT-SRUN-';

export interface StepCommandOptions {
  /** The Slurm node name (`-w`). */
  node: string;
  command: string;
  /** A random token: markers carry it so no program output can be mistaken for one. */
  nonce: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Extra srun options from the machine map (placed before the program). */
  srunArgs?: readonly string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Signals the reporter passes on to the program (a stop, `scancel -s SIG`): Slurm signals only the task. */
const REPORTER_FORWARDS = 'INT TERM HUP QUIT USR1 USR2 ALRM';

const REPORTER = [
  'my ($n, $c) = @ARGV; my @s = qw(' + REPORTER_FORWARDS + ' PIPE); my ($p, $pend);',
  // What the program would have inherited: keep a signal ignored only if it already was.
  'my %w = map { ($_, defined $SIG{$_} && $SIG{$_} eq "IGNORE") } @s;',
  // Every descendant of the program, from one pass over /proc (field 4 of stat is the parent).
  'sub tree { my %k; opendir(my $d, "/proc") or return (); for my $e (readdir $d) { next if $e !~ /^\\d+$/;',
  '  open(my $f, "<", "/proc/$e/stat") or next; my $t = <$f>; close $f; push @{$k{$1}}, $e if defined $t && $t =~ /\\) \\S+ (\\d+)/ }',
  '  my @q = ($p); my @o; while (@q) { my $x = pop @q; for (@{$k{$x} || []}) { push @o, $_; push @q, $_ } } return @o }',
  // Snapshot first (once the child dies its children are reparented), then the child, the rest, the group.
  'sub fwd { my $g = shift; if (!$p) { $pend = $g; return } my @t = tree(); kill $g, $p; kill $g, @t if @t; kill $g, -$p }',
  '$SIG{PIPE} = "IGNORE"; for my $g (grep { $_ ne "PIPE" } @s) { $SIG{$g} = $w{$g} ? "IGNORE" : sub { fwd($g) } }',
  '$p = fork;',
  // The child (or, if fork failed, the reporter itself: no report then) becomes the command.
  'if (!defined $p || $p == 0) { setpgrp(0, 0) if defined $p; $SIG{$_} = $w{$_} ? "IGNORE" : "DEFAULT" for @s; exec "/bin/sh", "-c", $c; exit 127 }',
  // A signal that came between fork and the assignment of $p.
  'fwd($pend) if $pend;',
  // perl runs a handler and goes on waiting (waitpid restarts after EINTR).
  'waitpid($p, 0); my $st = $?;',
  'my $r = ($st & 127) ? "signal " . ($st & 127) : "code " . ($st >> 8);',
  'syswrite STDOUT, "' + MARKER_PREFIX + '$n exit $r\\n";',
  'exit(($st & 127) ? 128 + ($st & 127) : $st >> 8);',
].join('\n');

export function stepScript(options: Pick<StepCommandOptions, 'env' | 'cwd'>): string {
  const setup: string[] = [];
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (!ENV_NAME.test(name)) throw new UserError(`environment variable name ${JSON.stringify(name)} is not a valid shell name`);
    setup.push(`export ${name}=${quote(value)}`);
  }
  if (options.cwd !== undefined) setup.push(`cd -- ${quote(options.cwd)} || exit 126`);
  return [
    `printf '${MARKER_PREFIX}%s step %s.%s %s\\n' "$1" "$SLURM_JOB_ID" "$SLURM_STEP_ID" "$$"`,
    ...setup,
    `if command -v perl >/dev/null 2>&1; then exec perl -e ${quote(REPORTER)} "$1" "$2"; fi`,
    'exec /bin/sh -c "$2"',
  ].join('\n');
}

/** srun's argv (without `srun` itself). */
export function srunArgv(options: StepCommandOptions): string[] {
  if (!/^[A-Za-z0-9_.-]+$/.test(options.node)) throw new UserError(`${JSON.stringify(options.node)} is not a Slurm node name`);
  return [
    '--overlap', '-N1', '-n1', '-w', options.node, '-QQ', '-J', 'expert',
    ...(options.srunArgs ?? []),
    '/bin/sh', '-c', stepScript(options), 'expert-srun', options.nonce, options.command,
  ];
}

export type Marker = { kind: 'step'; step: string; pid: number | undefined } | { kind: 'exit'; code: number } | { kind: 'signal'; signal: number };

/** A marker's text after `EXPERT-SRUN-<nonce> ` (without the newline); undefined when it is not one. */
export function parseMarker(text: string): Marker | undefined {
  let m = /^step (\d+)\.(\d+) (\d+)$/.exec(text);
  if (m) return { kind: 'step', step: `${m[1]}.${m[2]}`, pid: Number(m[3]) > 1 ? Number(m[3]) : undefined };
  m = /^exit code (\d+)$/.exec(text);
  if (m) return { kind: 'exit', code: Number(m[1]) };
  m = /^exit signal (\d+)$/.exec(text);
  if (m) return { kind: 'signal', signal: Number(m[1]) };
  return undefined;
}
