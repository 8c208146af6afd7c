// `diskless doctor MAC|NAME`: why a machine does not boot, in plain words. The running server
// walks the machine's boot chain (GET /api/machines/:ref/doctor); this prints its checklist.
import type { Command } from 'commander';
import type { DoctorReport } from '../doctor/checklist.ts';
import { renderChecklist } from '../doctor/checklist.ts';
import { callApi, print, withApiOptions, type ApiFlags } from './api-client.ts';

export function registerDoctorCommand(program: Command): void {
  withApiOptions(
    program
      .command('doctor')
      .description('Say why a machine does not boot: the server walks its boot chain (DHCP, TFTP, script, iSCSI login, LBA 0) and names the first failing step')
      .argument('<mac-or-name>')
      .option('--firmware <bios|uefi>', 'judge its disks for this firmware (default: what it last booted with)')
      .option('--details', 'also print the answers, sizes and DHCP snippets behind each step'),
  ).action(async (ref: string, flags: ApiFlags & { firmware?: string; details?: boolean }) => {
    if (flags.firmware !== undefined && flags.firmware !== 'bios' && flags.firmware !== 'uefi') throw new Error(`--firmware takes bios or uefi, not ${flags.firmware}`);
    const query = flags.firmware !== undefined ? `?firmware=${flags.firmware}` : '';
    const report = (await callApi(flags, 'GET', `/api/machines/${encodeURIComponent(ref)}/doctor${query}`)) as DoctorReport;
    print(flags, report, renderChecklist(report, { details: flags.details === true }));
    // A failing checklist is a failing command, so scripts and CI can act on it.
    if (report.status === 'fail') process.exitCode = 1;
  });
}
