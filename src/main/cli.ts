import { Command, CommanderError, Option } from 'commander';
import {
  configVariables,
  ConfigError,
  flagForVariable,
  loadConfig,
  type ConfigKey,
} from '../platform/config.ts';
import { readBuildInfo } from '../platform/version.ts';
import { openDatabase } from '../db/open.ts';
import { migrate } from '../db/migrate.ts';
import { migrations } from '../db/migrations/index.ts';
import { admissionSetup } from './admission.ts';
import { clusterSetup, type ClusterConnection } from './cluster.ts';
import { registerKmsCommands } from './kms-command.ts';
import { managerSetup, setupManager } from './manager.ts';
import type { InProcessLink } from './in-process.ts';
import { startLocalCluster } from './local-cluster.ts';
import { join } from 'node:path';
import { operatorSetup } from './operator.ts';
import { startService, type ComponentSetup, type RunningService } from './service.ts';

/** The process boundary, injected so the CLI can be exercised in-process by tests. */
export interface CliIO {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Called with each started service; the real entry point wires signal handling here. */
  onStarted?: (svc: RunningService) => void;
}

/** Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error. */
export const EXIT_USAGE = 2;

const components: Record<string, { summary: string; setups: (env: CliIO['env']) => ComponentSetup[] }> = {
  manager: {
    summary: 'Run the manager: REST API, database, outbox dispatcher.',
    setups: () => [setupManager],
  },
  operator: {
    summary: 'Run the operator: controllers for Tenant, Project and App.',
    setups: (env) => {
      const cluster: ClusterConnection = {};
      return [clusterSetup(cluster, env), operatorSetup({ requireCluster: true, env, cluster })];
    },
  },
  admission: {
    summary: 'Run the admission webhooks.',
    setups: (env) => {
      const cluster: ClusterConnection = {};
      return [clusterSetup(cluster, env), admissionSetup({ env, cluster })];
    },
  },
  all: {
    summary: 'Run every component in one process (development and the quick start).',
    setups: (env) => {
      const link: InProcessLink = {};
      // One cluster connection, so the operator, metering and admission share one informer per watch.
      const cluster: ClusterConnection = {};
      return [
        clusterSetup(cluster, env),
        managerSetup({ link }),
        operatorSetup({ requireCluster: false, env, link, installCrds: true, cluster, alongsideApi: true }),
        admissionSetup({ env, removeConfigurationsOnStop: true, cluster, alongsideApi: true }),
      ];
    },
  },
};

function addConfigOptions(cmd: Command, only?: ConfigKey[]): Command {
  for (const { name, schema } of configVariables()) {
    if (only && !only.includes(name)) continue;
    const description = `${(schema.description as string | undefined) ?? ''} [env ${name}]`;
    cmd.addOption(new Option(`${flagForVariable(name)} <value>`, description));
  }
  return cmd;
}

/** Commander's option names (`httpAddr`) back to the variables they stand for. */
function flagsToConfig(opts: Record<string, unknown>): Partial<Record<ConfigKey, string>> {
  const out: Partial<Record<ConfigKey, string>> = {};
  for (const { name } of configVariables()) {
    const key = flagForVariable(name)
      .slice(2)
      .replace(/-([a-z])/g, (_m: string, c: string) => c.toUpperCase());
    const value = opts[key];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

export function buildProgram(io: CliIO): Command {
  const program = new Command('kubeop')
    .description('kubeOP: multi-tenant application platform for Kubernetes')
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) =>
        write(
          `kubeop: ${s
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
    .exitOverride()
    .showSuggestionAfterError(true);

  for (const [name, { summary, setups }] of Object.entries(components)) {
    const cmd = addConfigOptions(program.command(name).description(summary));
    if (name === 'all') {
      cmd.option(
        '--local-cluster',
        'start the local Kubernetes control plane of the test harness (source checkout, binaries built by hack/controlplane/build.sh) under <data-dir>/local-cluster and run against it',
      );
    }
    cmd.action(async (opts: Record<string, unknown>) => {
      const loaded = loadConfig(io.env, flagsToConfig(opts));
      let config = loaded.config;
      const before: ComponentSetup[] = [];
      if (opts.localCluster === true) {
        if (config.KUBEOP_KUBECONFIG)
          throw new ConfigError(
            'KUBEOP_KUBECONFIG',
            'is set: --local-cluster starts its own cluster; use one or the other',
          );
        const say = (line: string) => io.stderr(`local cluster: ${line}\n`);
        const cluster = await startLocalCluster(join(config.KUBEOP_DATA_DIR, 'local-cluster'), say);
        say(`ready at ${cluster.server}; KUBECONFIG=${cluster.kubeconfig}`);
        config = { ...config, KUBEOP_KUBECONFIG: cluster.kubeconfig };
        // First setup, so its closer runs last: the cluster outlives every component using it.
        before.push(async (ctx) => ctx.lifecycle.onShutdown('local-cluster', () => cluster.stop()));
      }
      const svc = await startService(name, config, [...before, ...setups(io.env)], {
        unknownVariables: loaded.unknown,
      });
      io.onStarted?.(svc);
    });
  }

  addConfigOptions(
    program
      .command('migrate')
      .description('Apply pending database migrations and exit (the manager also migrates at start).'),
    ['KUBEOP_DB_URL', 'KUBEOP_DATA_DIR'],
  ).action(async (opts: Record<string, unknown>) => {
    const { config } = loadConfig(io.env, flagsToConfig(opts));
    const db = await openDatabase({ url: config.KUBEOP_DB_URL, dataDir: config.KUBEOP_DATA_DIR });
    try {
      const report = await migrate(db, migrations, (m) => io.stdout(`applying ${m.version} ${m.name}\n`));
      io.stdout(
        report.applied.length
          ? `migrated to version ${report.current} (${report.applied.length} applied)\n`
          : `already at version ${report.current}; nothing to apply\n`,
      );
    } finally {
      await db.close();
    }
  });

  program
    .command('version')
    .description('Print the version, commit and build date.')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const info = { service: 'kubeop', ...readBuildInfo() };
      io.stdout(
        opts.json
          ? JSON.stringify(info) + '\n'
          : `kubeop ${info.version} (commit ${info.gitCommit}, built ${info.buildDate})\n`,
      );
    });

  registerKmsCommands(program, io, { addConfigOptions, flagsToConfig });

  return program;
}

/**
 * Runs the command line. Resolves to the exit code for commands that finish; for the component
 * commands it resolves with undefined once the service is listening (the process then lives until a
 * signal). Every failure becomes one line on stderr.
 */
export async function runCli(argv: string[], io: CliIO): Promise<number | undefined> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // 'commander.help' is help shown because no command was given: a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      io.stderr(`kubeop: ${err.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`kubeop: ${(err as Error).message}\n`);
    return 1;
  }
  return Object.hasOwn(components, argv[0] ?? '') ? undefined : 0;
}
