# figma-token-operator

IMG ?= figma-token-operator:dev
# Tool versions, pinned. Every tool is built from the Go module proxy into bin/.
CONTROLLER_GEN_VERSION ?= v0.23.0

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
KUBECTL ?= $(shell [ -n "$(KUBEBUILDER_ASSETS)" ] && echo "$(KUBEBUILDER_ASSETS)/kubectl" || echo kubectl)

# Make's own shell runs recipes with bash and stops at the first failing command of a pipe.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and RBAC from the Go markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd and kubectl for the tests into bin/k8s/ (once).
	@hack/envtest.sh >/dev/null

# The tests use KUBEBUILDER_ASSETS when it is set, else the binaries hack/envtest.sh builds.
.PHONY: test
test: manifests generate fmt vet ## Run every test: unit, envtest and end-to-end.
	export KUBEBUILDER_ASSETS="$${KUBEBUILDER_ASSETS:-$$(hack/envtest.sh)}"; \
	go test ./... -race -count=1 -timeout 40m

.PHONY: verify
verify: manifests generate ## Fail when generated files or formatting differ from what is committed.
	@git diff --exit-code -- config/crd config/rbac api || { echo "generated files are stale: run 'make manifests generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- config/crd config/rbac api)" || { echo "untracked generated files: commit them"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt: run 'make fmt' and commit"; gofmt -l $$(git ls-files '*.go'); exit 1; }

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -o bin/manager .

.PHONY: demo
demo: ## Run the operator on a local control plane with a fake Amplify endpoint (DURATION=90s to stop by itself).
	go build -o bin/demo ./hack/demo
	bin/demo $(if $(DURATION),-duration $(DURATION))

N ?= 1000
UNRELATED ?= 5000
.PHONY: bench
bench: ## Measure at scale; writes docs/benchmarks.{md,json} (N, UNRELATED, CURVE=100,1000,5000).
	go build -o bin/bench ./hack/bench
	bin/bench -n $(N) -unrelated $(UNRELATED) $(if $(CURVE),-curve $(CURVE))

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the current kubeconfig.
	go run . $(ARGS)

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs from the cluster of the current kubeconfig.
	$(KUBECTL) delete --ignore-not-found -f config/crd/bases

##@ Tools

$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)
