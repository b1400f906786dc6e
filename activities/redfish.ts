import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { blocked, fatal, transient } from '../contracts/failures.ts';
import { SecretNotFoundError } from '../secrets/store.ts';
import { heartbeat } from './context.ts';
import type { ActivityDeps } from './deps.ts';
import { redact } from '../secrets/redact.ts';
import { RedfishClient, RedfishError, type RedfishConnection } from './redfish/client.ts';
import { findCdSlot, findSystem, insertedImage, readSystem, type RedfishSystem, type RedfishVirtualMedia } from './redfish/discover.ts';
import { pickResetType, PowerTimeoutError, resetSystem, waitForPowerState } from './redfish/power.ts';

/**
 * Boot provider `redfish`: puts one node into the Talos installer (ISO over virtual media, or one-time PXE)
 * through its BMC. Idempotent: it reads the BMC first and only does what is missing, and reports what it did.
 * Waiting for Talos maintenance mode is the Talos adapters' job; this returns once the node is powered on.
 */
export const bootNodeInputSchema = z.object({
  node: z.string().min(1),
  bmc: z.object({
    endpoint: z.string().url(),
    credentialsRef: z.string().min(1),
    systemId: z.string().min(1).optional(),
    insecureTls: z.boolean().optional(),
    caRef: z.string().min(1).optional(),
  }),
  imageUrl: z.string().url(),
  bootMode: z.enum(['virtualmedia', 'pxe']),
});
export type BootNodeInput = z.infer<typeof bootNodeInputSchema>;

export type BootAction = 'eject-media' | 'insert-media' | 'set-boot-override' | 'power-on' | 'power-cycle';
export interface BootNodeResult {
  actions: BootAction[];
}

/** The secret value behind `bmc.credentialsRef`. */
export const bmcCredentialsSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });

export async function bootNodeIntoInstaller(deps: ActivityDeps, input: BootNodeInput): Promise<BootNodeResult> {
  const parsed = bootNodeInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fatal(`bootNodeIntoInstaller: invalid input at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, 'fix the node\'s bmc block in the blueprint');
  }
  const i = parsed.data;
  const conn = await connectionFor(deps, i);
  const client = new RedfishClient({ ...conn, onWait: (what) => heartbeat({ node: i.node, waiting: what }) });
  const actions: BootAction[] = [];
  try {
    const { system } = await findSystem(client, i.bmc.systemId);
    const path = system['@odata.id'];
    const target = bootTarget(system, i.bootMode);

    if (i.bootMode === 'virtualmedia') {
      const slot = await findCdSlot(client, system);
      actions.push(...(await ensureMedia(client, system, slot, i)));
    }

    const fresh = await readSystem(client, path);
    if (!overrideIsSet(fresh.system, target)) {
      await client.patch(path, { Boot: bootOverride(fresh.system, target) }, fresh.etag);
      actions.push('set-boot-override');
    }

    actions.push(...(await ensurePoweredIntoInstaller(client, path, actions.length > 0, deps.pollBudgetMs, i.node)));
    return { actions };
  } catch (err) {
    throw classify(err, i, conn.password, actions);
  } finally {
    await client.close();
  }
}

async function connectionFor(deps: ActivityDeps, i: BootNodeInput): Promise<RedfishConnection> {
  const raw = await readSecret(deps, i.bmc.credentialsRef, 'bmc.credentialsRef', i.node);
  let creds: z.infer<typeof bmcCredentialsSchema>;
  try {
    creds = bmcCredentialsSchema.parse(JSON.parse(raw));
  } catch {
    // Never echo the value: it is the password.
    throw fatal(
      `node ${i.node}: secret ${i.bmc.credentialsRef} is not JSON {"username","password"}`,
      `store the BMC credentials as {"username":"…","password":"…"} under ${i.bmc.credentialsRef}`,
    );
  }
  const ca = i.bmc.caRef ? await readSecret(deps, i.bmc.caRef, 'bmc.caRef', i.node) : undefined;
  return { endpoint: i.bmc.endpoint, username: creds.username, password: creds.password, ca, insecureTls: i.bmc.insecureTls };
}

async function readSecret(deps: ActivityDeps, ref: string, field: string, node: string): Promise<string> {
  try {
    return (await deps.secrets.get(ref)).toString('utf8');
  } catch (err) {
    if (err instanceof SecretNotFoundError) {
      throw fatal(`node ${node}: ${field} ${ref} is not in the secret store`, `put it in the secret store under ${ref}`);
    }
    throw transient(`node ${node}: reading ${field} ${ref} failed: ${(err as Error).message}`);
  }
}

/** Supermicro X11/X12 expose virtual media as the non-standard `UsbCd`; booting `Cd` there finds nothing. */
export function bootTarget(system: RedfishSystem, mode: 'virtualmedia' | 'pxe'): string {
  if (mode === 'pxe') return 'Pxe';
  const allowed = system.Boot['BootSourceOverrideTarget@Redfish.AllowableValues'] ?? [];
  if (/supermicro/i.test(system.Manufacturer ?? '') && allowed.includes('UsbCd')) return 'UsbCd';
  return 'Cd';
}

/** `Once` is what we ask for, but BMCs that only keep `Continuous` (sushy, some vendors) count as set too. */
function overrideIsSet(system: RedfishSystem, target: string): boolean {
  const b = system.Boot;
  return b.BootSourceOverrideTarget === target && (b.BootSourceOverrideEnabled ?? 'Once') !== 'Disabled';
}

/** AMI/ASRockRack want the whole Boot object; keep the mode the BMC reports rather than guessing UEFI/Legacy. */
function bootOverride(system: RedfishSystem, target: string): Record<string, string> {
  const mode = system.Boot.BootSourceOverrideMode;
  return {
    BootSourceOverrideTarget: target,
    BootSourceOverrideEnabled: 'Once',
    ...(mode ? { BootSourceOverrideMode: mode } : {}),
  };
}

async function ensureMedia(
  client: RedfishClient,
  system: RedfishSystem,
  slot: RedfishVirtualMedia,
  i: BootNodeInput,
): Promise<BootAction[]> {
  const current = insertedImage(slot);
  if (current === i.imageUrl) return [];
  const actions: BootAction[] = [];
  if (slot.Inserted) {
    const eject = slot.Actions['#VirtualMedia.EjectMedia']?.target;
    if (!eject) throw new RedfishError('protocol', `virtual media ${slot['@odata.id']} has no EjectMedia action`);
    // HPE iLO rejects an eject without a JSON body.
    await client.post(eject, {});
    actions.push('eject-media');
  }
  const insert = slot.Actions['#VirtualMedia.InsertMedia']?.target;
  if (!insert) throw new RedfishError('protocol', `virtual media ${slot['@odata.id']} has no InsertMedia action`);
  await insertMedia(client, insert, i.imageUrl, /supermicro/i.test(system.Manufacturer ?? ''));
  actions.push('insert-media');
  return actions;
}

/**
 * Supermicro rejects `Inserted`/`WriteProtected` ("not in the list of valid properties"), others require
 * `TransferProtocolType`: one retry with the payload the BMC's message asks for, never a loop.
 */
async function insertMedia(client: RedfishClient, target: string, image: string, supermicro: boolean): Promise<void> {
  const full = { Image: image, Inserted: true, WriteProtected: true };
  const first = supermicro ? { Image: image } : full;
  try {
    await client.post(target, first, { slow: true });
  } catch (err) {
    if (!(err instanceof RedfishError) || err.status !== 400 || !err.bmcMessage) throw err;
    let retry: Record<string, unknown> | undefined;
    if (/Inserted|WriteProtected/.test(err.bmcMessage) && first !== undefined && 'Inserted' in first) retry = { Image: image };
    else if (/TransferProtocolType|TransferMethod/.test(err.bmcMessage)) {
      retry = { ...first, TransferProtocolType: new URL(image).protocol.replace(':', '').toUpperCase(), TransferMethod: 'Stream' };
    }
    if (!retry) throw err;
    await client.post(target, retry, { slow: true });
  }
}

/**
 * Off → power on. On and something changed (new media or override) → restart so the change takes effect.
 * On and nothing changed → nothing: a re-run after success must not reboot a node mid-install.
 */
async function ensurePoweredIntoInstaller(
  client: RedfishClient,
  path: string,
  changed: boolean,
  budgetMs: number,
  node: string,
): Promise<BootAction[]> {
  const wait = { timeoutMs: budgetMs, onPoll: (state: string) => heartbeat({ node, powerState: state }) };
  let { system } = await readSystem(client, path);
  // Mid-transition from an earlier attempt: let it settle before deciding.
  if (system.PowerState === 'PoweringOn') system = await waitForPowerState(client, path, 'On', wait);
  if (system.PowerState === 'PoweringOff') system = await waitForPowerState(client, path, 'Off', wait);

  if (system.PowerState === 'On') {
    if (!changed) return [];
    await resetSystem(client, system, pickResetType(system, 'restart'));
    await waitForPowerState(client, path, 'On', wait);
    return ['power-cycle'];
  }
  await resetSystem(client, system, pickResetType(system, 'on'));
  await waitForPowerState(client, path, 'On', wait);
  return ['power-on'];
}

function classify(err: unknown, i: BootNodeInput, password: string, done: BootAction[]): Error {
  const clean = (s: string) => redact(s, [password]);
  const progress = done.length ? ` (done so far: ${done.join(', ')})` : '';
  if (err instanceof PowerTimeoutError) {
    return blocked({
      reason: `node ${i.node}: the BMC accepted the power change but ${err.message}`,
      hint: 'check the BMC event log and the PSU; power the node on by hand, then resume',
      evidence: { node: i.node, bmc: i.bmc.endpoint, powerState: err.last },
    });
  }
  if (!(err instanceof RedfishError)) {
    // Already a classified failure (secret store) or a bug: pass failures through, redact everything else.
    if (err instanceof ApplicationFailure) return err;
    return transient(clean(`node ${i.node}: redfish: ${(err as Error)?.message ?? String(err)}${progress}`));
  }
  const msg = clean(err.message);
  switch (err.kind) {
    case 'auth':
      // Non-retryable on purpose: retrying a wrong password locks BMC accounts out.
      return fatal(`node ${i.node}: ${msg}`, `check the username/password stored under ${i.bmc.credentialsRef} (and the account's Redfish role)`);
    case 'tls':
      return fatal(
        `node ${i.node}: ${msg}`,
        i.bmc.caRef
          ? `the CA in ${i.bmc.caRef} did not sign this BMC's certificate; store the right CA`
          : "store the BMC's CA (its self-signed cert) in the secret store and set bmc.caRef, or set bmc.insecureTls: true",
      );
    case 'network':
      return transient(`node ${i.node}: BMC unreachable: ${msg}${progress}`);
    case 'protocol':
      return fatal(`node ${i.node}: ${msg}`, 'check bmc.systemId and that the BMC offers virtual media (feature set / licence)');
    case 'http':
      if (/InsertMedia/.test(err.message)) {
        return blocked({
          reason: `node ${i.node}: the BMC could not load the installer image ${i.imageUrl} (HTTP ${err.status})`,
          hint: 'make the image URL reachable from the BMC network (DNS, firewall, proxy) or mirror it nearby, then resume',
          evidence: { node: i.node, imageUrl: i.imageUrl, status: err.status ?? 0, ...(err.bmcMessage ? { bmcMessage: clean(err.bmcMessage).slice(0, 200) } : {}) },
        });
      }
      if ((err.status ?? 0) >= 500) return transient(`node ${i.node}: ${msg}${progress}`);
      return fatal(`node ${i.node}: ${msg}${progress}`, 'the BMC rejected the request; see its message and docs/real-peers.md for vendor quirks');
  }
}
