# todo-app: one command from source to a healthy release on a local Kubernetes cluster.
# `make help` lists the targets; README.md describes each one.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/todo-app
VAULT_CLIENT := inventory/local/vault-client.py
ANSIBLE_ARGS ?=

export PATH := $(CURDIR)/$(VENV)/bin:$(CACHE_DIR)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= $(if $(CI),0,1)

PLAYBOOK := $(VENV)/bin/ansible-playbook $(ANSIBLE_ARGS)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- set-up -----------------------------------------------------------------

$(VENV)/.installed: requirements.lock
	@if ! $(PYTHON) -m venv --help >/dev/null 2>&1 || ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then \
	  echo "Installing python3-venv (the virtualenv module is missing)"; \
	  apt-get install -y --no-install-recommends python3-venv; fi
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	@echo "Installing the pinned Python tools (ansible, molecule, linters); about 2 minutes the first time"
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements.lock
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create the project virtualenv from requirements.lock

VAULT_FILE := inventory/local/group_vars/all/vault.yml

.PHONY: vault-init
vault-init: venv ## Create the vault password and vault.yml when there are none (never overwrites)
	@$(PYTHON) $(VAULT_CLIENT) --init
	@# An existing vault.yml is never touched, so the play (a second ansible-playbook start) runs only without one.
	@if [[ ! -e $(VAULT_FILE) ]]; then $(PLAYBOOK) playbooks/init-secrets.yml; fi

.PHONY: vault-edit
vault-edit: venv ## Edit the encrypted secrets (inventory/local/group_vars/all/vault.yml)
	$(VENV)/bin/ansible-vault edit $(VAULT_FILE)

.PHONY: vault-rekey
vault-rekey: venv ## Re-encrypt vault.yml with a new password (NEW_VAULT_PASSWORD_FILE=path)
	$(VENV)/bin/ansible-vault rekey --new-vault-password-file "$${NEW_VAULT_PASSWORD_FILE:?set NEW_VAULT_PASSWORD_FILE to a file holding the new password}" $(VAULT_FILE)

.PHONY: toolchain
toolchain: venv ## Install or build the pinned tools and start the Docker engine
	$(PLAYBOOK) playbooks/toolchain.yml

.PHONY: lock
lock: venv ## Re-resolve requirements.lock from requirements.in
	$(VENV)/bin/uv pip compile --python-version 3.11 --generate-hashes --quiet requirements.in -o requirements.lock

# --- the cluster ------------------------------------------------------------

.PHONY: cluster
cluster: venv ## Create (or find) the local cluster and make it the current context
	$(PLAYBOOK) playbooks/cluster.yml

.PHONY: cluster-down
cluster-down: venv ## Delete the local cluster and everything it left on the host
	$(PLAYBOOK) playbooks/cluster.yml -e cluster_state=absent -e cluster_provider=$${CLUSTER_PROVIDER:-local}

.PHONY: kind-node-image
kind-node-image: venv ## Build the kind node image here (no registry needed); cached by its inputs
	$(PLAYBOOK) playbooks/kind-node-image.yml

# --- the deployment ---------------------------------------------------------

.PHONY: deploy
deploy: vault-init ## Set up everything, then build, load and release the app and prove it works
	$(PLAYBOOK) site.yml

.PHONY: plan
plan: venv ## What the next deploy would do, changing nothing (scripts/plan.py: exit 0 nothing to do, 2 pending, 1 error)
	$(VENV)/bin/python scripts/plan.py $(ANSIBLE_ARGS)

.PHONY: upgrade
upgrade: venv ## Rebuild what changed and roll it out without downtime
	$(PLAYBOOK) playbooks/upgrade.yml

.PHONY: dev
dev: vault-init ## Deploy, then watch backend/, frontend/ and the chart and roll each change out (Ctrl-C stops)
	$(VENV)/bin/python scripts/dev.py $(ANSIBLE_ARGS)

.PHONY: rollback
rollback: venv ## Roll back to the previous release (REVISION=n for a given one)
	$(PLAYBOOK) playbooks/rollback.yml $(if $(REVISION),-e release_rollback_revision=$(REVISION))

.PHONY: teardown
teardown: venv ## Remove the release, keeping the database's data (DATA=1 deletes the namespace with it; CLUSTER=1 DATA=1 the cluster too)
	$(PLAYBOOK) playbooks/teardown.yml $(if $(DATA),-e teardown_delete_data=true) $(if $(CLUSTER),-e teardown_cluster=true)

.PHONY: backup
backup: venv ## Dump the embedded database to a file in backups/ (BACKUP_DIR=dir) and print its path
	$(PLAYBOOK) playbooks/backup.yml $(if $(BACKUP_DIR),-e '{"backup_dir": "$(abspath $(BACKUP_DIR))"}')

.PHONY: restore
restore: venv ## Restore BACKUP=path into the running release (checks the file first; the backend stops meanwhile)
	@test -n "$(BACKUP)" || { echo "Say which backup to restore: make restore BACKUP=path (make backup prints the path it wrote)" >&2; exit 2; }
	$(PLAYBOOK) playbooks/restore.yml -e '{"backup_file": "$(abspath $(BACKUP))"}'

# --- proof ------------------------------------------------------------------

.PHONY: lint
lint: venv ## yamllint, ansible-lint (production), ruff, mypy, hadolint, helm lint
	$(VENV)/bin/python tests/run_suite.py lint

.PHONY: test-unit
test-unit: venv ## Unit tests of the modules and the vault client
	$(VENV)/bin/python tests/run_suite.py unit

TEST_PACKAGES := ["postgresql", "chromium", "wrk"]
# The providers the suite's clusters use: their tools are provided before the first stage, so a
# cold build (the Kubernetes server binaries, kind, the node image's kubeadm) falls in no test's timeout.
TEST_PROVIDERS := ["local", "kind", "node"]

.PHONY: test
test: vault-init ## The whole suite: lint, unit, chart, app, cluster, molecule; ends with "N passed, N failed"
	$(PLAYBOOK) playbooks/toolchain.yml -e '{"toolchain_extra_packages": $(TEST_PACKAGES), "toolchain_providers": $(TEST_PROVIDERS)}'
	$(VENV)/bin/python tests/run_suite.py all

.PHONY: bench
bench: vault-init ## Measure sizes and times into bench/results.json and bench/results.md
	$(VENV)/bin/python bench/run.py
