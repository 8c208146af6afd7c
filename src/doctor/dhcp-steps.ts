// What the machine would get from DHCP, for each kind of firmware it may have: the request is
// described as the facts a real client sends (captured in test/vectors/dhcp), classified by the
// same rules the DHCP server uses (dhcp/pxe.ts) and answered by the same pure boot policy
// (boot/policy.ts). With DHCP off, it says so and shows what to paste into the network's DHCP.
import { renderDhcpSnippets } from '../boot/dhcp-snippets.ts';
import { createBootPolicy, DELIVERY, type PolicyOptions } from '../boot/policy.ts';
import type { BootDecision, PxeClient } from '../boot/types.ts';
import type { Inventory } from '../boot/inventory.ts';
import { ARCH_TABLE, matchFirmwareRule, type ClientFacts } from '../dhcp/pxe.ts';
import type { DoctorStep } from './checklist.ts';

export interface FirmwareProfile {
  readonly id: string;
  readonly label: string;
  readonly facts: ClientFacts;
}

/** The four ways a machine asks, as their DHCP requests say it (option 93, 60, 77, 175). */
export const FIRMWARE_PROFILES: readonly FirmwareProfile[] = [
  { id: 'bios-pxe', label: 'BIOS PXE ROM', facts: { arch: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClasses: [], hasIpxeOptions: false } },
  { id: 'uefi-pxe', label: 'UEFI x64 PXE', facts: { arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003000', userClasses: [], hasIpxeOptions: false } },
  { id: 'ipxe', label: 'iPXE', facts: { arch: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001', userClasses: ['iPXE'], hasIpxeOptions: true } },
  { id: 'http-boot', label: 'UEFI HTTP boot', facts: { arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003001', userClasses: [], hasIpxeOptions: false } },
];

/** The PxeClient DHCP would make of these facts, or null if it would not treat it as booting. */
export function classifyProfile(mac: string, facts: ClientFacts): PxeClient | null {
  const rule = matchFirmwareRule(facts);
  const platform = facts.arch === null ? 'bios' : ARCH_TABLE[facts.arch]?.platform;
  if (rule === null || platform === undefined) return null;
  return { mac, firmware: rule.firmware, platform, arch: facts.arch, uuid: null, userClass: facts.userClasses.join(',') || null, vendorClass: facts.vendorClass, hasIpxeOptions: facts.hasIpxeOptions };
}

export interface DhcpAnswer {
  readonly profile: FirmwareProfile;
  readonly client: PxeClient | null;
  readonly decision: BootDecision | null;
  readonly refusal: string | null;
}

/** Asks the boot policy, as the DHCP server would, for every firmware profile. */
export function askPolicy(inventory: Inventory, mac: string, server: string, options: Omit<PolicyOptions, 'onRefuse'>): DhcpAnswer[] {
  return FIRMWARE_PROFILES.map((profile) => {
    // The policy says why it refuses through a callback, as it does for the DHCP server's log.
    const refused: { reason: string | null } = { reason: null };
    const policy = createBootPolicy(inventory, { ...options, onRefuse: (_client, reason) => (refused.reason = reason) });
    const client = classifyProfile(mac, profile.facts);
    const decision = client === null ? null : policy.decide(client, server);
    return { profile, client, decision, refusal: client === null ? 'DHCP would not see it as a network-boot client' : refused.reason };
  });
}

function describeDecision(d: BootDecision): string[] {
  const ipxe = d.ipxe;
  const extras = [
    ipxe?.keepSan === true ? 'keep-san' : null,
    ipxe?.noPxeDhcp === true ? 'no ProxyDHCP wait' : null,
    ipxe?.username !== undefined ? `CHAP user ${ipxe.username}` : null,
    d.initiatorIqn !== undefined ? `initiator ${d.initiatorIqn}` : null,
  ].filter((x): x is string => x !== null);
  return extras.length > 0 ? [`iPXE options: ${extras.join(', ')}`] : [];
}

export function dhcpSteps(answers: readonly DhcpAnswer[], mode: PolicyOptions['dhcpMode'], snippet: { server: string; httpPort: number }): DoctorStep[] {
  const steps: DoctorStep[] = [];
  if (mode === 'off') {
    steps.push({
      section: 'dhcp',
      id: 'dhcp:mode',
      status: 'ok',
      summary: "diskless's DHCP is off: the network's DHCP server must answer as below (the snippets to paste are in the details)",
      details: renderDhcpSnippets(snippet).trimEnd().split('\n'),
    });
  }
  const verb = mode === 'off' ? 'should get' : 'gets';
  for (const a of answers) {
    const base = { section: 'dhcp' as const, id: `dhcp:${a.profile.id}` };
    if (a.decision === null) {
      steps.push({ ...base, status: 'fail', summary: `${a.profile.label}: no boot answer`, cause: `The boot policy gives a ${a.profile.label} client no boot file: ${a.refusal ?? 'no reason given'}.`, fix: 'register the machine (diskless machine add), or set unknownMachines to a boot entry' });
      continue;
    }
    const how = a.client === null ? '' : DELIVERY[a.client.firmware] === 'tftp-program' ? ' over TFTP' : ' over HTTP';
    steps.push({ ...base, status: 'ok', summary: `${a.profile.label} ${verb} ${a.decision.bootFile}${how} from ${a.decision.nextServer}`, details: describeDecision(a.decision) });
  }
  return steps;
}
