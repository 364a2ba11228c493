# figma-token-operator

IMG ?= figma-token-operator:dev
# VERSION is stamped into the manager (--version, the build-info metric).
VERSION ?= dev
LDFLAGS = -X github.com/tokenops/figma-token-operator/internal/version.Version=$(VERSION)
CONTAINER_TOOL ?= docker
# Tool versions, pinned. Every tool is built from the Go module proxy into bin/.
CONTROLLER_GEN_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
HELM_VERSION ?= v4.3.1
PROMETHEUS_VERSION ?= v0.316.0
# crane pushes the release's image; the same go-containerregistry release hack/release builds it with.
CRANE_VERSION ?= v0.22.1
GOTESTSUM_VERSION ?= v1.13.0
# The release's signatures and attestations (cosign) and its SBOMs (cyclonedx-gomod).
COSIGN_VERSION ?= v2.6.5
CYCLONEDX_GOMOD_VERSION ?= v1.10.0
# The generated docs: the chart's README (helm-docs) and docs/api.md (crd-ref-docs).
HELM_DOCS_VERSION ?= v1.14.2
CRD_REF_DOCS_VERSION ?= v0.3.0

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
PROMTOOL ?= $(LOCALBIN)/promtool-$(PROMETHEUS_VERSION)
PROMETHEUS ?= $(LOCALBIN)/prometheus-$(PROMETHEUS_VERSION)
CRANE ?= $(LOCALBIN)/crane-$(CRANE_VERSION)
GOTESTSUM ?= $(LOCALBIN)/gotestsum-$(GOTESTSUM_VERSION)
COSIGN ?= $(LOCALBIN)/cosign-$(COSIGN_VERSION)
CYCLONEDX_GOMOD ?= $(LOCALBIN)/cyclonedx-gomod-$(CYCLONEDX_GOMOD_VERSION)
HELM_DOCS ?= $(LOCALBIN)/helm-docs-$(HELM_DOCS_VERSION)
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs-$(CRD_REF_DOCS_VERSION)
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
manifests: $(CONTROLLER_GEN) $(HELM_DOCS) $(CRD_REF_DOCS) ## Generate the CRD, RBAC (the manager's, and the opt-in rollout restarts'), the chart's copies and README, and docs/api.md.
	$(CONTROLLER_GEN) crd paths="./api/..." output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths="./controllers/..." output:rbac:dir=config/rbac
	$(CONTROLLER_GEN) rbac:roleName=rollout-restarts-role paths="./internal/rollout/..." output:rbac:dir=config/components/rollout-restarts
	$(CONTROLLER_GEN) rbac:roleName=metrics-auth-role paths="./internal/operator/..." output:rbac:dir=config/rbac/metrics_auth
	hack/sync-chart.sh
	$(CRD_REF_DOCS) --source-path=./api --config=hack/crd-ref-docs/config.yaml --renderer=markdown \
		--templates-dir=hack/crd-ref-docs/templates/markdown --output-path=docs/api.md --log-level=ERROR
	$(HELM_DOCS) --chart-search-root=charts --sort-values-order=file --log-level=warning

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt, on the nested modules (examples, tool modules) too.
	go fmt ./...
	gofmt -w examples hack/release hack/kubernetes

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (.golangci.yml).
	$(GOLANGCI_LINT) run ./...

.PHONY: envtest
envtest: ## Put kube-apiserver, etcd and kubectl into bin/k8s/ (setup-envtest, else built from source; once).
	@hack/envtest.sh >/dev/null

# The tests use KUBEBUILDER_ASSETS when it is set, else the binaries hack/envtest.sh builds.
.PHONY: test
# gotestsum names each test as it finishes and sums up at the end (failures again, with their
# output). The nested modules (the envtest example, the release tool) run beside the main suite.
test: manifests generate fmt vet $(HELM) $(PROMTOOL) $(PROMETHEUS) $(CRANE) $(GOTESTSUM) $(COSIGN) $(CYCLONEDX_GOMOD) ## Run every test: unit, envtest and end-to-end.
	export KUBEBUILDER_ASSETS="$${KUBEBUILDER_ASSETS:-$$(hack/envtest.sh --with-controller-manager)}" HELM=$(HELM) PROMTOOL=$(PROMTOOL) PROMETHEUS=$(PROMETHEUS) LOCALBIN=$(LOCALBIN) COSIGN=$(COSIGN) CYCLONEDX_GOMOD=$(CYCLONEDX_GOMOD); \
	$(GOTESTSUM) --format testname -- ./... -race -count=1 -parallel 32 -timeout 40m & suite=$$!; \
	nested=0; for module in examples/envtest-app hack/release; do \
		(cd $$module && $(GOTESTSUM) --format pkgname -- ./... -count=1 -timeout 10m) || nested=1; \
	done; \
	wait $$suite; [ $$nested = 0 ]

.PHONY: verify
verify: manifests generate ## Fail when generated files or formatting differ from what is committed.
	@git diff --exit-code -- config/crd config/rbac config/components api charts pkg/crds docs/api.md || { echo "generated files are stale: run 'make manifests generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- config/crd config/rbac config/components api charts pkg/crds docs/api.md)" || { echo "untracked generated files: commit them"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt: run 'make fmt' and commit"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@big=$$(git ls-files -z | xargs -0 -r stat -c '%s %n' | awk '$$1 > 1048576 {print $$2}'); test -z "$$big" || { echo "tracked files over 1 MB (build outputs belong in bin/ or dist/, ignored): $$big"; exit 1; }

# The packages whose tests start a control plane (kube-apiserver, etcd): controllers and
# everything under test/; test-unit runs all others.
CONTROL_PLANE_TESTS = /controllers$$|/test/

.PHONY: test-unit
test-unit: ## Run every test that needs no control plane: the inner loop, seconds, no bin/k8s needed.
	go test $$(go list ./... | grep -Ev '$(CONTROL_PLANE_TESTS)') -count=1

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -ldflags "$(LDFLAGS)" -o bin/manager .

.PHONY: plugin
plugin: ## Build the kubectl plugin for this machine into bin/kubectl-figmatoken (on PATH, it is kubectl figmatoken).
	go build -ldflags "$(LDFLAGS)" -o bin/kubectl-figmatoken ./cmd/kubectl-figmatoken

.PHONY: demo
demo: ## Run the operator on a local control plane with fake Amplify and Figma endpoints, a FigmaToken on each (DURATION=90s to stop by itself).
	@hack/progress.sh "building the demo into bin/demo" go build -o bin/demo ./hack/demo
	bin/demo $(if $(DURATION),-duration $(DURATION))

bench: N ?= 1000
bench: UNRELATED ?= 5000
bench: CURVE ?= 100,1000,5000,10000
bench: SHARDED ?= 10000
bench: FIGMA ?= 1000
.PHONY: bench
bench: ## Measure at scale (about 25 min); writes docs/benchmarks.{md,json} and plots (N, UNRELATED, CURVE, SHARDED, FIGMA).
	@hack/progress.sh "building the bench into bin/bench" go build -o bin/bench ./test/bench
	bin/bench -n $(N) -unrelated $(UNRELATED) $(if $(CURVE),-curve $(CURVE)) -sharded $(SHARDED) -figma $(FIGMA) -heap-profile bin/heap.pprof

soak: DURATION ?= 10m
soak: N ?= 500
.PHONY: soak
soak: ## Run under load and faults at once (DURATION, N, SEED, FAULTS); writes docs/soak.{json,md} and fails when an invariant breaks.
	@hack/progress.sh "building the soak into bin/soak" go build -o bin/soak ./test/soak
	bin/soak -duration $(DURATION) -n $(N) $(if $(SEED),-seed $(SEED)) $(if $(FAULTS),-faults $(FAULTS)) $(if $(OUT),-out $(OUT)) $(if $(LOG_LEVEL),-operator-log-level $(LOG_LEVEL))

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

# The kustomize installs carry the AWS region the manager calls Amplify UI Builder in
# (AWS_REGION; without it the Amplify upstream is off) and, for IRSA, the role its
# ServiceAccount assumes (AWS_ROLE_ARN).
RENDER = KUBECTL=$(KUBECTL) AWS_REGION=$(AWS_REGION) AWS_ROLE_ARN=$(AWS_ROLE_ARN) hack/render.sh

.PHONY: deploy
deploy: manifests ## Deploy the operator (config/default) with image IMG in AWS_REGION (AWS_ROLE_ARN for IRSA); COMPONENTS=config/components/rollout-restarts adds rollout restarts.
	$(RENDER) config/default $(IMG) $(COMPONENTS) | $(KUBECTL) apply --server-side -f -

WATCH_NAMESPACE ?=
.PHONY: deploy-namespaced
deploy-namespaced: manifests ## Deploy the operator for one namespace (config/namespaced, no cluster-wide grant): WATCH_NAMESPACE=web AWS_REGION=... IMG=...
	@test -n "$(WATCH_NAMESPACE)" || { echo "set WATCH_NAMESPACE, the namespace to watch"; exit 1; }
	$(RENDER) config/namespaced $(IMG) | sed 's/WATCHED_NAMESPACE/$(WATCH_NAMESPACE)/g' | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove what make deploy created but the CRD, which would take every FigmaToken with it (make uninstall removes it).
	KUBECTL=$(KUBECTL) AWS_REGION=$(AWS_REGION) hack/render.sh config/default $(IMG) $(COMPONENTS) 2>/dev/null | $(KUBECTL) delete --ignore-not-found -f - --selector='!figma.tokenops.dev/keep-on-undeploy'

.PHONY: undeploy-namespaced
undeploy-namespaced: ## Remove what make deploy-namespaced created but the CRDs: WATCH_NAMESPACE=web.
	@test -n "$(WATCH_NAMESPACE)" || { echo "set WATCH_NAMESPACE, the namespace make deploy-namespaced watched"; exit 1; }
	$(RENDER) config/namespaced $(IMG) 2>/dev/null | sed 's/WATCHED_NAMESPACE/$(WATCH_NAMESPACE)/g' | $(KUBECTL) delete --ignore-not-found -f - --selector='!figma.tokenops.dev/keep-on-undeploy'

.PHONY: build-installer
build-installer: manifests ## Write dist/install.yaml: the whole operator in one file, with image IMG, in AWS_REGION (AWS_ROLE_ARN for IRSA).
	@mkdir -p dist
	$(RENDER) config/default $(IMG) $(COMPONENTS) > dist/install.yaml.tmp
	mv dist/install.yaml.tmp dist/install.yaml
	@echo "wrote dist/install.yaml for $(IMG)$(if $(AWS_REGION), in $(AWS_REGION), without an AWS region (the Figma upstream only))"

# make release VERSION=vX.Y.Z writes dist/: the manager for linux/amd64 and linux/arm64, the
# multi-arch image as an OCI layout tarball (no container engine: hack/release), install.yaml
# for IMG_REPO:VERSION, the packaged chart, the kubectl plugin's archives and krew manifest
# (release-plugin), then their SBOMs, provenance and SHA256SUMS (release-attestations), signed
# with COSIGN_KEY (release-sign).
IMG_REPO ?= figma-token-operator
RELEASE_PLATFORMS = amd64 arm64
# What the provenance says ran: the make command line, less a password given on it.
RELEASE_INVOCATION := make $(MAKECMDGOALS) $(filter-out COSIGN_PASSWORD=%,$(MAKEOVERRIDES))
RELEASE_STARTED := $(shell date -u +%FT%TZ)
.PHONY: release
release: manifests $(HELM) $(COSIGN) $(CYCLONEDX_GOMOD) ## Write a release to dist/ (VERSION=vX.Y.Z, IMG_REPO=registry/name, AWS_REGION for install.yaml's Amplify upstream, COSIGN_KEY to sign it).
	@[[ "$(VERSION)" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$ ]] || { echo "set VERSION=vX.Y.Z"; exit 1; }
	hack/stamp-version.sh $(VERSION)
	rm -rf dist && mkdir -p dist
	for arch in $(RELEASE_PLATFORMS); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch hack/progress.sh "building the manager for linux/$$arch" \
			go build -trimpath -ldflags "-s -w $(LDFLAGS)" -o dist/manager-linux-$$arch . || exit 1; \
	done
	cd hack/release && ../progress.sh "building the image" go run . -version $(VERSION) -out $(CURDIR)/dist/figma-token-operator-$(VERSION).oci.tar \
		$(foreach arch,$(RELEASE_PLATFORMS),-binary linux/$(arch)=$(CURDIR)/dist/manager-linux-$(arch))
	KUBECTL="$$(hack/envtest.sh)/kubectl" AWS_REGION=$(AWS_REGION) AWS_ROLE_ARN=$(AWS_ROLE_ARN) hack/render.sh config/default $(IMG_REPO):$(VERSION) > dist/install.yaml.tmp
	mv dist/install.yaml.tmp dist/install.yaml
	$(HELM) package charts/figma-token-operator --version $(VERSION:v%=%) --app-version $(VERSION) -d dist
	$(MAKE) --no-print-directory release-plugin VERSION=$(VERSION) PLUGIN_URL_BASE=$(PLUGIN_URL_BASE)
	$(MAKE) --no-print-directory release-attestations release-sign VERSION=$(VERSION) RELEASE_DIR=dist RELEASE_INVOCATION='$(RELEASE_INVOCATION)' RELEASE_STARTED=$(RELEASE_STARTED)
	@echo "wrote dist/ for $(VERSION)"; cat dist/SHA256SUMS

# The release's files, in RELEASE_DIR, that the provenance and SHA256SUMS name.
RELEASE_FILES = manager-linux-* figma-token-operator-*.oci.tar install.yaml figma-token-operator-*.tgz kubectl-figmatoken_*.tar.gz figmatoken.yaml
RELEASE_PATH = $(abspath $(RELEASE_DIR))
# COSIGN_KEY: a key file (cosign generate-key-pair; its password in COSIGN_PASSWORD) or a KMS
# URI as cosign takes them (awskms://, gcpkms://, azurekms://, hashivault://). The signatures
# go to the public transparency log only with COSIGN_TLOG=true: off, a release signs offline
# and is verified with --insecure-ignore-tlog.
COSIGN_KEY ?=
COSIGN_TLOG ?= false
# release-attestations writes, beside the release files in RELEASE_DIR: a CycloneDX SBOM for
# each platform of the manager and of the plugin (hack/release/sbom.sh: the modules compiled
# into that platform's binary, with their licenses), the SLSA provenance
# (hack/release/provenance: the predicate provenance.slsa.json, and the statement
# provenance.intoto.json naming each file by its SHA-256) and SHA256SUMS.
.PHONY: release-attestations
release-attestations: $(CYCLONEDX_GOMOD) ## Write RELEASE_DIR's SBOMs, provenance and SHA256SUMS (make release runs it).
	@[[ "$(VERSION)" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$ ]] || { echo "set VERSION=vX.Y.Z"; exit 1; }
	@for arch in $(RELEASE_PLATFORMS); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch CYCLONEDX_GOMOD=$(CYCLONEDX_GOMOD) hack/progress.sh "writing the manager's SBOM for linux/$$arch" \
			hack/release/sbom.sh $(RELEASE_PATH)/figma-token-operator_linux_$$arch.cdx.json || exit 1; \
	done
	@for platform in $(PLUGIN_PLATFORMS); do \
		os=$${platform%/*}; arch=$${platform#*/}; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch CYCLONEDX_GOMOD=$(CYCLONEDX_GOMOD) hack/progress.sh "writing the plugin's SBOM for $$platform" \
			hack/release/sbom.sh $(RELEASE_PATH)/kubectl-figmatoken_$${os}_$${arch}.cdx.json cmd/kubectl-figmatoken || exit 1; \
	done
	cd hack/release && ../progress.sh "writing the provenance" go run ./provenance -source $(CURDIR) -version $(VERSION) -invocation '$(RELEASE_INVOCATION)' -started $(RELEASE_STARTED) \
		-tool cosign=$(COSIGN_VERSION) -tool cyclonedx-gomod=$(CYCLONEDX_GOMOD_VERSION) -tool helm=$(HELM_VERSION) \
		-predicate $(RELEASE_PATH)/provenance.slsa.json -statement $(RELEASE_PATH)/provenance.intoto.json \
		$(addprefix $(RELEASE_PATH)/,$(RELEASE_FILES) *.cdx.json)
	cd $(RELEASE_PATH) && sha256sum $(RELEASE_FILES) *.cdx.json provenance.slsa.json provenance.intoto.json > SHA256SUMS

# release-sign signs, with COSIGN_KEY, the plugin archives and SHA256SUMS (a FILE.bundle each,
# SHA256SUMS vouching for the rest) and the provenance statement (provenance.intoto.bundle),
# and writes the public key beside them (cosign.pub). Without a key it says so.
.PHONY: release-sign
release-sign: $(COSIGN) ## Sign RELEASE_DIR's plugin archives, SHA256SUMS and provenance with COSIGN_KEY (make release runs it).
	@if [ -z "$(COSIGN_KEY)" ]; then echo "COSIGN_KEY is not set: nothing was signed (no bundles, no cosign.pub in $(RELEASE_DIR))"; exit 0; fi; \
	echo "signing the plugin archives, SHA256SUMS and the provenance with $(COSIGN_KEY)"; \
	for blob in $(RELEASE_PATH)/kubectl-figmatoken_*.tar.gz $(RELEASE_PATH)/SHA256SUMS; do \
		hack/progress.sh "signing $${blob##*/}" $(COSIGN) sign-blob --yes --key $(COSIGN_KEY) --tlog-upload=$(COSIGN_TLOG) --bundle $$blob.bundle $$blob > /dev/null || exit 1; \
	done; \
	hack/progress.sh "signing the provenance" $(COSIGN) attest-blob --yes --key $(COSIGN_KEY) --tlog-upload=$(COSIGN_TLOG) --statement $(RELEASE_PATH)/provenance.intoto.json \
		--bundle $(RELEASE_PATH)/provenance.intoto.bundle > /dev/null && \
	$(COSIGN) public-key --key $(COSIGN_KEY) > $(RELEASE_PATH)/cosign.pub

# make push VERSION=vX.Y.Z IMG_REPO=registry/name pushes what make release wrote
# (hack/release/push.sh): the image's OCI layout, its index (both platforms) as one tag, with
# crane, and the chart as an OCI artifact beside it (CHART_REPO/figma-token-operator:X.Y.Z),
# with helm; crane, helm and cosign read the credentials of docker login. With COSIGN_KEY it
# signs the index, each platform image and the chart, and attests the manager's SBOMs and the
# provenance on the index. It prints the chart's digest, then the image's, last.
# PLAIN_HTTP=true is for a registry without TLS (a local test registry).
RELEASE_DIR ?= dist
CHART_REPO ?= $(patsubst %/,%,$(dir $(IMG_REPO)))/charts
PLAIN_HTTP ?= false
.PHONY: push
push: $(CRANE) $(HELM) $(COSIGN) ## Push the release's multi-arch image to IMG_REPO:VERSION and its chart to CHART_REPO, signed with COSIGN_KEY (after make release; your registry login).
	@[[ "$(VERSION)" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$ ]] || { echo "set VERSION=vX.Y.Z, the release to push"; exit 1; }
	@test -f $(RELEASE_DIR)/figma-token-operator-$(VERSION).oci.tar || { echo "no $(RELEASE_DIR)/figma-token-operator-$(VERSION).oci.tar: run make release VERSION=$(VERSION) first"; exit 1; }
	@VERSION=$(VERSION) IMG_REPO=$(IMG_REPO) CHART_REPO=$(CHART_REPO) RELEASE_DIR=$(RELEASE_DIR) PLAIN_HTTP=$(PLAIN_HTTP) \
		COSIGN_KEY=$(COSIGN_KEY) COSIGN_TLOG=$(COSIGN_TLOG) CRANE=$(CRANE) HELM=$(HELM) COSIGN=$(COSIGN) hack/release/push.sh

# The kubectl plugin: an archive per platform (the binary and LICENSE, as krew installs it)
# and the krew manifest dist/figmatoken.yaml, whose URIs are PLUGIN_URL_BASE/ARCHIVE
# (default: the GitHub release of VERSION), written by hack/krew with each archive's SHA-256.
PLUGIN_PLATFORMS = linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
PLUGIN_URL_BASE ?= https://github.com/tokenops/figma-token-operator/releases/download/$(VERSION)
.PHONY: release-plugin
release-plugin: ## Write the kubectl plugin's archives (linux, darwin; amd64, arm64) and krew manifest to dist/ (VERSION=vX.Y.Z, PLUGIN_URL_BASE).
	@[[ "$(VERSION)" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$ ]] || { echo "set VERSION=vX.Y.Z"; exit 1; }
	mkdir -p dist
	for platform in $(PLUGIN_PLATFORMS); do \
		os=$${platform%/*}; arch=$${platform#*/}; dir=$$(mktemp -d); \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch hack/progress.sh "building the plugin for $$platform" \
			go build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $$dir/kubectl-figmatoken ./cmd/kubectl-figmatoken || exit 1; \
		cp LICENSE $$dir/; \
		tar -czf dist/kubectl-figmatoken_$${os}_$${arch}.tar.gz -C $$dir kubectl-figmatoken LICENSE; \
		rm -rf $$dir; \
	done
	hack/progress.sh "writing the krew manifest" go run ./hack/krew -version $(VERSION) -url-base $(PLUGIN_URL_BASE) -out dist/figmatoken.yaml $(foreach p,$(PLUGIN_PLATFORMS),dist/kubectl-figmatoken_$(subst /,_,$(p)).tar.gz)
	@echo "wrote the kubectl plugin's archives and dist/figmatoken.yaml for $(VERSION)"

.PHONY: docker-build
docker-build: ## Build the manager image IMG (needs a container engine).
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) -t $(IMG) .

##@ Tools

# Each tool is built once into bin/, its file name carrying the pinned version.
$(CONTROLLER_GEN):
	$(call go-install,$@,sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_GEN_VERSION))

$(GOLANGCI_LINT):
	$(call go-install,$@,github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

$(HELM):
	$(call go-install,$@,helm.sh/helm/v4/cmd/helm,$(HELM_VERSION))

$(PROMTOOL):
	$(call go-install,$@,github.com/prometheus/prometheus/cmd/promtool,$(PROMETHEUS_VERSION))

$(PROMETHEUS):
	$(call go-install,$@,github.com/prometheus/prometheus/cmd/prometheus,$(PROMETHEUS_VERSION))

$(CRANE):
	$(call go-install,$@,github.com/google/go-containerregistry/cmd/crane,$(CRANE_VERSION))

$(GOTESTSUM):
	$(call go-install,$@,gotest.tools/gotestsum,$(GOTESTSUM_VERSION))

$(COSIGN):
	$(call go-install,$@,github.com/sigstore/cosign/v2/cmd/cosign,$(COSIGN_VERSION))

$(CYCLONEDX_GOMOD):
	$(call go-install,$@,github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod,$(CYCLONEDX_GOMOD_VERSION))

$(HELM_DOCS):
	$(call go-install,$@,github.com/norwoodj/helm-docs/cmd/helm-docs,$(HELM_DOCS_VERSION))

$(CRD_REF_DOCS):
	$(call go-install,$@,github.com/elastic/crd-ref-docs,$(CRD_REF_DOCS_VERSION))

# go-install builds package $(2) at version $(3) into the file $(1).
define go-install
	@echo "building $$(basename $(2)) $(3) into bin/ (once)"
	@mkdir -p $(dir $(1)) && tmp=$$(mktemp -d) && GOBIN=$$tmp hack/progress.sh "building $$(basename $(2)) $(3)" go install $(2)@$(3) && mv $$tmp/$$(basename $(2)) $(1) && rmdir $$tmp
endef
