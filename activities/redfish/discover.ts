import { z } from 'zod';
import { collectionSchema, RedfishError, type RedfishClient } from './client.ts';

/**
 * Finding things by following links from the service root, never by hard-coded paths: System ids differ per
 * vendor (`1`, `System.Embedded.1`, a UUID) and VirtualMedia moved from Managers to Systems in newer firmware
 * (and in sushy-tools >= 1.1.0).
 */
const link = z.object({ '@odata.id': z.string() }).optional();

export const systemSchema = z.object({
  '@odata.id': z.string(),
  Id: z.string().optional(),
  Name: z.string().optional(),
  UUID: z.string().optional(),
  Manufacturer: z.string().nullish(),
  Model: z.string().nullish(),
  PowerState: z.string().nullish(),
  Boot: z
    .object({
      BootSourceOverrideTarget: z.string().nullish(),
      BootSourceOverrideEnabled: z.string().nullish(),
      BootSourceOverrideMode: z.string().nullish(),
      'BootSourceOverrideTarget@Redfish.AllowableValues': z.array(z.string()).optional(),
    })
    .partial()
    .default({}),
  Actions: z
    .object({
      '#ComputerSystem.Reset': z
        .object({ target: z.string(), 'ResetType@Redfish.AllowableValues': z.array(z.string()).optional() })
        .optional(),
    })
    .partial()
    .default({}),
  VirtualMedia: link,
  Links: z.object({ ManagedBy: z.array(z.object({ '@odata.id': z.string() })).optional() }).partial().default({}),
});
export type RedfishSystem = z.infer<typeof systemSchema>;

export const virtualMediaSchema = z.object({
  '@odata.id': z.string(),
  Id: z.string().optional(),
  MediaTypes: z.array(z.string()).default([]),
  Image: z.string().nullish(),
  Inserted: z.boolean().nullish(),
  ConnectedVia: z.string().nullish(),
  Actions: z
    .object({
      '#VirtualMedia.InsertMedia': z.object({ target: z.string() }).optional(),
      '#VirtualMedia.EjectMedia': z.object({ target: z.string() }).optional(),
    })
    .partial()
    .default({}),
});
export type RedfishVirtualMedia = z.infer<typeof virtualMediaSchema>;

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new RedfishError('protocol', `${what}: unexpected Redfish payload (${r.error.issues[0]?.message ?? 'invalid'})`);
  return r.data;
}

/**
 * The System to boot: `systemId` may be the last path segment, the Id, the Name or the UUID (Metal3 style);
 * without it, the collection must hold exactly one System (never assume Members[0] on a multi-node BMC).
 */
export async function findSystem(client: RedfishClient, systemId?: string): Promise<{ system: RedfishSystem; etag?: string }> {
  const root = await client.serviceRoot();
  const systemsRef = parse(z.object({ Systems: z.object({ '@odata.id': z.string() }) }), root.body, 'service root');
  const members = parse(collectionSchema, (await client.get(systemsRef.Systems['@odata.id'])).body, 'Systems').Members;
  if (members.length === 0) throw new RedfishError('protocol', 'the BMC lists no Systems');
  const bySegment = systemId ? members.find((m) => m['@odata.id'].replace(/\/$/, '').split('/').pop() === systemId) : undefined;
  const candidates = bySegment ? [bySegment] : systemId ? members : members.length === 1 ? members : undefined;
  if (!candidates) {
    throw new RedfishError('protocol', `the BMC manages ${members.length} Systems; set bmc.systemId to pick one`);
  }
  for (const m of candidates) {
    const res = await client.get(m['@odata.id']);
    const system = parse(systemSchema, res.body, m['@odata.id']);
    if (!systemId || bySegment || [system.Id, system.Name, system.UUID].includes(systemId)) return { system, etag: res.etag };
  }
  throw new RedfishError('protocol', `no System with id, name or UUID ${JSON.stringify(systemId)} on this BMC`);
}

/** Re-reads one System (fresh PowerState, Boot and ETag). */
export async function readSystem(client: RedfishClient, path: string): Promise<{ system: RedfishSystem; etag?: string }> {
  const res = await client.get(path);
  return { system: parse(systemSchema, res.body, path), etag: res.etag };
}

/**
 * The CD/DVD slot: via System.VirtualMedia first, then each managing Manager's VirtualMedia (what Ironic does).
 * Slots are picked by MediaTypes, never by Id (`Cd`, `CD`, `CD1`, `1` all exist in the wild).
 */
export async function findCdSlot(client: RedfishClient, system: RedfishSystem): Promise<RedfishVirtualMedia> {
  const collections: string[] = [];
  if (system.VirtualMedia) collections.push(system.VirtualMedia['@odata.id']);
  for (const m of system.Links.ManagedBy ?? []) {
    const manager = parse(z.object({ VirtualMedia: link }), (await client.get(m['@odata.id'])).body, m['@odata.id']);
    if (manager.VirtualMedia) collections.push(manager.VirtualMedia['@odata.id']);
  }
  for (const path of new Set(collections)) {
    let members;
    try {
      members = parse(collectionSchema, (await client.get(path)).body, path).Members;
    } catch (err) {
      // A linked-but-missing collection (404) happens on firmware that moved it; try the next place.
      if (err instanceof RedfishError && err.status === 404) continue;
      throw err;
    }
    for (const m of members) {
      const slot = parse(virtualMediaSchema, (await client.get(m['@odata.id'])).body, m['@odata.id']);
      if (slot.MediaTypes.some((t) => /^(CD|DVD)$/i.test(t))) return slot;
    }
  }
  throw new RedfishError('protocol', `System ${system.Id ?? system['@odata.id']} has no CD/DVD virtual media slot (licence? feature set?)`);
}

/** sushy renders an unset image as the string "None"; real BMCs use null or "". */
export function insertedImage(slot: RedfishVirtualMedia): string | undefined {
  if (!slot.Inserted) return undefined;
  return slot.Image && slot.Image !== 'None' ? slot.Image : undefined;
}
