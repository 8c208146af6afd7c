// The `diskless` command. One file per subcommand; each registers itself on the program.
import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { registerDiskCommand } from './disk.ts';
import { registerEventsCommand } from './events.ts';
import { registerMachineCommand } from './machine.ts';
import { registerServeCommand } from './serve.ts';
import { registerSessionsCommand } from './sessions.ts';
import { registerTargetCommand } from './target.ts';
import { registerImportCommand } from './import.ts';
import { registerImageCommand } from './image.ts';
import { registerDoctorCommand } from './doctor.ts';
import { registerExplainCommand } from './explain.ts';

const program = new Command();
program
  .name('diskless')
  .description('Boot whole fleets of machines over the network from iSCSI disks: one server for iSCSI, HTTP boot scripts and more.')
  .version(VERSION)
  .showHelpAfterError();

registerServeCommand(program);
registerSessionsCommand(program);
registerDiskCommand(program);
registerEventsCommand(program);
registerMachineCommand(program);
registerTargetCommand(program);
registerImportCommand(program);
registerImageCommand(program);
registerDoctorCommand(program);
registerExplainCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`diskless: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
