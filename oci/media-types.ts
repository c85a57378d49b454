// Media types of the three image formats Istio's fetcher reads (pkg/wasm/imagefetcher.go; solo-io/wasm
// spec/spec.md and spec/spec-compat.md) and of the OCI and Docker documents around them.
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
export const WASM_CONFIG = "application/vnd.module.wasm.config.v1+json";
export const WASM_CONTENT = "application/vnd.module.wasm.content.layer.v1+wasm";

export const VARIANT_ANNOTATION = "module.wasm.image/variant";
export const TITLE_ANNOTATION = "org.opencontainers.image.title";
