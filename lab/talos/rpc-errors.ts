/**
 * gRPC error texts as talosctl prints them: grpc-go's status error `rpc error: code = <Code> desc = <msg>`,
 * with the transport's connection errors inside. Each carries the real text's source.
 */
const APID_PORT = 50000; // pkg/machinery/constants/constants.go ApidPort

export const rpc = (code: string, desc: string) => `rpc error: code = ${code} desc = ${desc}`;

/** Nothing listens (powered off, rebooting, wrong VLAN): siderolabs/talos issues #10880, #3352 show this shape. */
export const connectionRefused = (ip: string) =>
  rpc('Unavailable', `connection error: desc = "transport: Error while dialing: dial tcp ${ip}:${APID_PORT}: connect: connection refused"`);

/** A flaky link: the dial times out (text as in siderolabs/omni issue #480). */
export const dialTimeout = (ip: string) =>
  rpc('Unavailable', `last connection error: connection error: desc = "transport: Error while dialing: dial tcp ${ip}:${APID_PORT}: i/o timeout"`);

/**
 * The secure client does not trust the server's certificate: a node still in maintenance (self-signed) or one
 * installed from another secrets bundle (siderolabs/talos issue #9241, cozystack/talm issue #38).
 */
export const unknownAuthority = () =>
  rpc('Unavailable', 'connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"');

/**
 * The insecure (maintenance) client reaches a configured node: apid requires a client certificate, which the
 * insecure client does not have. [inference: TLS 1.3 alert text; siderolabs/talos issue #12870 shows the
 * "error reading server preface: remote error: tls: ..." shape]
 */
export const certificateRequired = () =>
  rpc('Unavailable', 'connection error: desc = "error reading server preface: remote error: tls: certificate required"');
