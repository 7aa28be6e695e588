import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../src/config/loadConfig.js';

/**
 * deploy/k8s: every object is checked against the Kubernetes OpenAPI schemas (the
 * kubernetes-models package: types, required fields, formats), then the fields the
 * relay relies on are checked strictly (typos there would be silently ignored by a
 * cluster) and against each other: probes, ports, selectors, the ConfigMap's relay
 * configuration. No cluster is needed.
 */
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'k8s');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: unknown };

const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

const manifests: Array<Manifest & { file: string }> = readdirSync(dir)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((document) => {
      expect(document.errors, file).toEqual([]);
      return { ...(document.toJSON() as Manifest), file };
    }),
  );

function only(kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
}

const probe = z.strictObject({
  httpGet: z.strictObject({ path: z.enum(['/healthz', '/readyz']), port: z.literal('metrics') }),
  periodSeconds: z.number().int().positive(),
  timeoutSeconds: z.number().int().positive().optional(),
  failureThreshold: z.number().int().positive(),
});
const containerSecurity = z.strictObject({
  allowPrivilegeEscalation: z.literal(false),
  readOnlyRootFilesystem: z.literal(true),
  capabilities: z.strictObject({ drop: z.tuple([z.literal('ALL')]) }),
});
const podSecurity = z.strictObject({
  runAsNonRoot: z.literal(true),
  runAsUser: z.number().int().min(1000),
  runAsGroup: z.number().int().min(1000),
  fsGroup: z.number().int().min(1000),
  seccompProfile: z.strictObject({ type: z.literal('RuntimeDefault') }),
});

describe('deploy/k8s', () => {
  it('has the objects we ship, all in the dbgrelay namespace', () => {
    const kinds = manifests.map((m) => m.kind).sort();
    expect(kinds).toEqual(['ConfigMap', 'Deployment', 'Namespace', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'Service']);
    for (const m of manifests) if (m.kind !== 'Namespace') expect(m.metadata.namespace, `${m.file} ${m.kind}`).toBe('dbgrelay');
  });

  it('validates every object against the Kubernetes API schemas', () => {
    for (const manifest of manifests) {
      const { file, ...object } = manifest;
      const Model = models[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${file}: no schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new Model!(object as never).validate(), file).not.toThrow();
    }
  });

  it('the schema check is not vacuous: it refuses a broken Deployment', () => {
    const deployment = structuredClone(only('Deployment')) as Record<string, any>;
    deployment['spec'].template.spec.containers[0].ports[0].containerPort = 'seventy-four';
    expect(() => new Deployment(deployment as never).validate()).toThrow(/containerPort/);
  });

  it('probes /healthz (startup, liveness) and /readyz (readiness) on the metrics port, hardened pod', () => {
    const pod = (only('Deployment') as any).spec.template.spec;
    expect(podSecurity.safeParse(pod.securityContext).error?.issues ?? []).toEqual([]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers).toHaveLength(1);
    const container = pod.containers[0];
    expect(containerSecurity.safeParse(container.securityContext).error?.issues ?? []).toEqual([]);
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(probe.safeParse(container[kind]).error?.issues ?? [], kind).toEqual([]);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const ports = Object.fromEntries(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    expect(ports).toEqual({ wss: 7443, tcps: 7444, metrics: 9464 });
    // Secret references: the relay secret from a Secret, never a literal value.
    const secretEnv = container.env.find((e: { name: string }) => e.name === 'DBGRELAY_SECRET');
    expect(secretEnv).toEqual({ name: 'DBGRELAY_SECRET', valueFrom: { secretKeyRef: { name: 'dbgrelay-auth', key: 'relay-secret' } } });
    expect(container.env.every((e: { value?: unknown }) => e.value === undefined)).toBe(true);
    const volumes = Object.fromEntries(pod.volumes.map((v: { name: string }) => [v.name, v]));
    expect(volumes['tls'].secret.secretName).toBe('dbgrelay-tls');
    expect(volumes['config'].configMap.name).toBe(only('ConfigMap').metadata.name);
    const mounted = new Set(container.volumeMounts.map((m: { name: string }) => m.name));
    expect([...mounted].sort()).toEqual(Object.keys(volumes).sort());
  });

  it("selectors of Services, PDB and NetworkPolicy pick the Deployment's pods, on its named ports", () => {
    const deployment = only('Deployment') as any;
    const podLabels: Record<string, string> = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
    const containerPorts = new Set(deployment.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name));
    for (const service of manifests.filter((m) => m.kind === 'Service') as any[]) {
      expect(service.spec.selector).toEqual(podLabels);
      for (const port of service.spec.ports) expect(containerPorts, `${service.metadata.name} ${port.name}`).toContain(port.targetPort);
    }
    const metrics = only('Service', 'dbgrelay-metrics') as any;
    expect(metrics.spec.clusterIP).toBe('None');
    expect(metrics.spec.publishNotReadyAddresses).toBe(true);
    expect((only('PodDisruptionBudget') as any).spec.selector.matchLabels).toEqual(podLabels);
    const policy = only('NetworkPolicy') as any;
    expect(policy.spec.podSelector.matchLabels).toEqual(podLabels);
    const ingressPorts = policy.spec.ingress.flatMap((rule: { ports: Array<{ port: string }> }) => rule.ports.map((p) => p.port));
    for (const port of ingressPorts) expect(containerPorts).toContain(port);
  });

  it('the ConfigMap holds a relay configuration the real loader accepts, matching the container ports', () => {
    const configMap = only('ConfigMap') as any;
    const deployment = only('Deployment') as any;
    const container = deployment.spec.template.spec.containers[0];
    const configPath: string = container.args[container.args.indexOf('--config') + 1];
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'config');
    expect(configPath).toBe(`${mount.mountPath}/config.yaml`);
    const file = join(mkdtempSync(join(tmpdir(), 'dbgrelay-k8s-')), 'config.yaml');
    writeFileSync(file, configMap.data['config.yaml']);
    const config = loadConfig({ env: { DBGRELAY_SECRET: 'from-the-secret' }, flags: { config: file } });
    expect(config.metrics).toMatchObject({ enabled: true, port: 9464, host: '0.0.0.0' });
    expect(config.listeners.wss.port).toBe(7443);
    expect(config.listeners.tcps.port).toBe(7444);
    const tlsMount = container.volumeMounts.find((m: { name: string }) => m.name === 'tls').mountPath;
    expect(config.tls.certFile).toBe(`${tlsMount}/tls.crt`);
    expect(config.tls.keyFile).toBe(`${tlsMount}/tls.key`);
    const stateMount = container.volumeMounts.find((m: { name: string }) => m.name === 'state').mountPath;
    expect(config.dataDir).toBe(stateMount);
  });
});

/** deploy/k8s/cluster: several replicas as one relay, applied with the namespace and Services of deploy/k8s. */
const clusterDir = join(dir, 'cluster');
const clusterManifests: Array<Manifest & { file: string }> = [
  ...manifests.filter((m) => m.file === 'namespace.yaml' || m.file === 'service.yaml'),
  ...readdirSync(clusterDir)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(clusterDir, file), 'utf8')).map((document) => {
        expect(document.errors, file).toEqual([]);
        return { ...(document.toJSON() as Manifest), file: `cluster/${file}` };
      }),
    ),
];

function clusterOnly(kind: string): any {
  const found = clusterManifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
}

describe('deploy/k8s/cluster', () => {
  it('has every object of the single form, each valid against the Kubernetes API schemas', () => {
    expect(clusterManifests.map((m) => m.kind).sort()).toEqual(manifests.map((m) => m.kind).sort());
    for (const manifest of clusterManifests) {
      const { file, ...object } = manifest;
      if (object.kind !== 'Namespace') expect(object.metadata.namespace, file).toBe('dbgrelay');
      const Model = models[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${file}: no schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new Model!(object as never).validate(), file).not.toThrow();
    }
  });

  it('runs several hardened replicas that take the store, their name and their address from the pod, never a literal credential', () => {
    const deployment = clusterOnly('Deployment');
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const pod = deployment.spec.template.spec;
    expect(podSecurity.safeParse(pod.securityContext).error?.issues ?? []).toEqual([]);
    const container = pod.containers[0];
    expect(containerSecurity.safeParse(container.securityContext).error?.issues ?? []).toEqual([]);
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(probe.safeParse(container[kind]).error?.issues ?? [], kind).toEqual([]);
    const ports = Object.fromEntries(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    expect(ports).toEqual({ wss: 7443, tcps: 7444, metrics: 9464, peer: 7445 });
    const env = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
    expect(env['DBGRELAY_SECRET'].valueFrom).toEqual({ secretKeyRef: { name: 'dbgrelay-auth', key: 'relay-secret' } });
    expect(env['DBGRELAY_CLUSTER_STORE_URL'].valueFrom).toEqual({ secretKeyRef: { name: 'dbgrelay-redis', key: 'url' } });
    expect(env['DBGRELAY_CLUSTER_INSTANCE_ID'].valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(env['POD_IP'].valueFrom).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
    // $(POD_IP) expands only from a variable defined before it
    const names = container.env.map((e: { name: string }) => e.name);
    expect(names.indexOf('POD_IP')).toBeLessThan(names.indexOf('DBGRELAY_CLUSTER_PEER_ADVERTISE'));
    expect(env['DBGRELAY_CLUSTER_PEER_ADVERTISE'].value).toBe(`$(POD_IP):${ports['peer']}`);
    const literal = container.env.filter((e: { value?: unknown }) => e.value !== undefined).map((e: { name: string }) => e.name);
    expect(literal).toEqual(['DBGRELAY_CLUSTER_PEER_ADVERTISE']);
    const volumes = Object.fromEntries(pod.volumes.map((v: { name: string }) => [v.name, v]));
    expect(volumes['peer-tls'].secret.secretName).toBe('dbgrelay-peer-tls');
    expect(new Set(container.volumeMounts.map((m: { name: string }) => m.name))).toEqual(new Set(Object.keys(volumes)));
  });

  it('opens the peer port only to the relay pods, and keeps two of three replicas in a drain', () => {
    const deployment = clusterOnly('Deployment');
    const podLabels = deployment.spec.template.metadata.labels;
    const policy = clusterOnly('NetworkPolicy');
    expect(policy.spec.podSelector.matchLabels).toEqual(podLabels);
    const peerRules = policy.spec.ingress.filter((rule: { ports: Array<{ port: string }> }) => rule.ports.some((p) => p.port === 'peer'));
    expect(peerRules).toHaveLength(1);
    expect(peerRules[0].from).toEqual([{ podSelector: { matchLabels: podLabels } }]);
    expect(peerRules[0].ports).toEqual([{ port: 'peer', protocol: 'TCP' }]);
    const egressPorts = policy.spec.egress.flatMap((rule: { ports: Array<{ port: number }> }) => rule.ports.map((p) => p.port));
    expect(egressPorts).toEqual(expect.arrayContaining([7445, 6379]));
    const budget = clusterOnly('PodDisruptionBudget');
    expect(budget.spec.selector.matchLabels).toEqual(podLabels);
    expect(budget.spec.minAvailable).toBeGreaterThanOrEqual(2);
    expect(budget.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('the ConfigMap with the pod environment is a configuration the real loader accepts, peer files on the mounted Secret', () => {
    const deployment = clusterOnly('Deployment');
    const container = deployment.spec.template.spec.containers[0];
    const file = join(mkdtempSync(join(tmpdir(), 'dbgrelay-k8s-cluster-')), 'config.yaml');
    writeFileSync(file, clusterOnly('ConfigMap').data['config.yaml']);
    const config = loadConfig({
      env: {
        DBGRELAY_SECRET: 'from-the-secret',
        DBGRELAY_CLUSTER_STORE_URL: 'redis://:password@redis.example:6379/0',
        DBGRELAY_CLUSTER_INSTANCE_ID: 'dbgrelay-7d9f8c6b5-x2x4q',
        DBGRELAY_CLUSTER_PEER_ADVERTISE: '10.1.2.3:7445',
      },
      flags: { config: file },
    });
    const peerMount = container.volumeMounts.find((m: { name: string }) => m.name === 'peer-tls').mountPath;
    expect(config.cluster.peer).toMatchObject({
      port: 7445,
      certFile: `${peerMount}/tls.crt`,
      keyFile: `${peerMount}/tls.key`,
      caFile: `${peerMount}/ca.crt`,
      advertise: '10.1.2.3:7445',
    });
    expect(config.cluster.store.url).toBe('redis://:password@redis.example:6379/0');
    expect(config.cluster.instanceId).toBe('dbgrelay-7d9f8c6b5-x2x4q');
    const ports = Object.fromEntries(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    expect(config.cluster.peer.port).toBe(ports['peer']);
    expect(config.listeners.tcps.port).toBe(ports['tcps']);
  });
});
