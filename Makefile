# meshid — make help lists the targets.
SHELL := bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.package-lock.json
TSX := node_modules/.bin/tsx

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: $(NPM_STAMP) ## Install Node dependencies (npm ci) when package-lock.json changed

.PHONY: testbin
testbin: ## Build (or reuse from cache) kube-apiserver, kube-controller-manager and etcd
	@bash hack/testbin/build.sh >/dev/null

.PHONY: tools
tools: deps ## Build (or reuse from cache) the Go test tools: gopher-lua runner, PromQL checker, promtool
	@$(TSX) hack/build-tools.ts

.PHONY: build
build: deps ## Compile the TypeScript into dist/
	npm run --silent build

.PHONY: typecheck
typecheck: deps ## Type-check everything, tests included
	npm run --silent typecheck

.PHONY: lint
lint: deps ## Run ESLint and check formatting with Prettier
	npm run --silent lint

.PHONY: nodebin
nodebin: ## Build (or reuse from cache) kubelet, kube-scheduler and kube-proxy for the local node
	@bash hack/testbin/build.sh node >/dev/null

.PHONY: node-deps
node-deps: ## Install containerd, runc, CNI plugins, iptables and conntrack where missing (root, apt)
	@bash hack/node/install-deps.sh

.PHONY: test
test: deps testbin nodebin node-deps tools typecheck ## Run unit and integration tests (starts local clusters, one with a node)
	npx jest --ci

.PHONY: test-unit
test-unit: deps ## Run unit tests only (no control plane)
	npx jest --ci --selectProjects unit

.PHONY: argocd-health
argocd-health: ## Run the Argo CD health check's health_test.yaml cases under gopher-lua
	@cd hack/argocd-lua && GOTOOLCHAIN=local GOFLAGS=-mod=mod go run . test ../../manifests/argocd/resource_customizations >/dev/null

# NODE=0 starts the control plane alone (no kubelet: pods stay Pending).
NODE ?= 1

.PHONY: cluster-up
cluster-up: deps ## Start a local cluster (control plane and a node; NODE=0: control plane alone) and print its kubeconfig path
	@MESHID_NODE=$(NODE) $(TSX) hack/controlplane/cli.ts up

.PHONY: cluster-down
cluster-down: deps ## Stop the local cluster started by cluster-up and remove what its node left
	@$(TSX) hack/controlplane/cli.ts down

.PHONY: demo
demo: cluster-up ## Run the demo on a local control plane
	@bash hack/demo.sh

.PHONY: manifests
manifests: deps ## Generate manifests/ from api/ and docs/configuration.md from operator/config.ts
	@$(TSX) hack/gen-manifests.ts
	@$(TSX) hack/gen-docs.ts
	@npx prettier --log-level warn --write docs/security.md

.PHONY: bench
bench: deps ## Run the benchmarks (flags: make bench BENCH_ARGS=--help)
	@node --import tsx hack/bench/run.ts $(BENCH_ARGS)
