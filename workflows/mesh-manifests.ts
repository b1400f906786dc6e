// Pure: the canary that proves global services work across the mesh (a tiny echo Deployment + a global Service
// in every cluster; each cluster must see backends from the others).

export const CANARY_SERVICE = { namespace: 'meshpilot-canary', name: 'meshpilot-canary' } as const;

export function canaryManifests(cluster: string): string {
  const { namespace, name } = CANARY_SERVICE;
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${namespace}
  labels:
    app.kubernetes.io/managed-by: meshpilot
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
  labels:
    app: ${name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
        meshpilot.io/cluster: ${cluster}
    spec:
      containers:
        - name: echo
          image: registry.k8s.io/e2e-test-images/agnhost:2.52
          args: ["netexec", "--http-port=8080"]
          ports:
            - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
  annotations:
    service.cilium.io/global: "true"
    service.cilium.io/shared: "true"
spec:
  type: ClusterIP
  selector:
    app: ${name}
  ports:
    - port: 8080
      targetPort: 8080
`;
}
