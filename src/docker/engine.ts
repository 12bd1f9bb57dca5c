import Docker from 'dockerode';

/** Where the Engine is, as validated by the config (DESIGN.md §3; `--docker`). */
export type DockerTarget =
  | {
      readonly kind: 'unix';
      readonly socketPath: string;
      readonly display: string;
      /** Set when no `--docker`/`DOCKER_HOST` was given and none of these sockets existed at start. */
      readonly tried?: readonly string[];
    }
  | {
      readonly kind: 'tcp';
      readonly protocol: 'http' | 'https';
      readonly host: string;
      readonly port: number;
      readonly display: string;
      /** Client certificate and CA from DOCKER_CERT_PATH; the server's certificate is always verified. */
      readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
    };

/** A dockerode client for the target. No I/O happens here. */
export function connectDocker(target: DockerTarget): Docker {
  if (target.kind === 'unix') return new Docker({ socketPath: target.socketPath });
  const tls = target.tls;
  return new Docker({
    protocol: target.protocol,
    host: target.host,
    port: target.port,
    ...(tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.cert ? { cert: tls.cert } : {}),
    ...(tls?.key ? { key: tls.key } : {}),
  } as Docker.DockerOptions);
}
