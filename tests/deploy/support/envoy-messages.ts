// The messages of a static Envoy bootstrap and its wasm HTTP filter as Envoy's API declares them
// (envoyproxy/data-plane-api, January 2026: config/bootstrap/v3, listener/v3, route/v3, cluster/v3,
// endpoint/v3, core/v3 address, base, http_uri, backoff; extensions/filters/network/
// http_connection_manager/v3, filters/http/router/v3, filters/http/wasm/v3, wasm/v3). Each message lists
// every field it declares (`declared`) and the types and PGV rules of the fields we write.

export type FieldType =
  | "string"
  | "uint32"
  | "bool"
  | "BoolValue"
  | "Duration"
  | { message: string }
  | { enum: readonly string[] }
  | { map: "string" }
  | { repeated: "string" }
  | { repeatedMessage: string }
  | { any: Record<string, string> };

export interface Message {
  /** Every field the message declares, space-separated; the ones we write are typed in `fields`. */
  declared: string;
  fields: Record<string, FieldType>;
  /** Fields of a oneof: at most one may be set; `required` means exactly one. */
  oneof?: { fields: string[]; required: boolean };
  /** PGV rules beyond the type: each returns a reason when broken. */
  rules?: ((message: Record<string, any>) => string | undefined)[];
}

/** google.protobuf.Duration in YAML/JSON: seconds with up to nine decimals and an "s". */
export const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const seconds = (duration: string) => Number(duration.slice(0, -1));

// google.protobuf.Any payloads the filter config may carry, with their own value type.
const ANY_VALUES = { "type.googleapis.com/google.protobuf.StringValue": "string" };
const NETWORK_FILTERS = {
  "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager":
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
};
const HTTP_FILTERS = {
  "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm": "envoy.extensions.filters.http.wasm.v3.Wasm",
  "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router": "envoy.extensions.filters.http.router.v3.Router",
};
const HCM = "envoy.extensions.filters.network.http_connection_manager.v3";

export const MESSAGES: Record<string, Message> = {
  "envoy.config.bootstrap.v3.Bootstrap": {
    declared:
      "node node_context_params static_resources dynamic_resources cluster_manager hds_config flags_path stats_sinks " +
      "deferred_stat_options stats_config stats_flush_interval stats_flush_on_admin stats_eviction_interval watchdog watchdogs " +
      "tracing layered_runtime admin overload_manager enable_dispatcher_stats header_prefix stats_server_version_override " +
      "use_tcp_for_dns_lookups dns_resolution_config typed_dns_resolver_config bootstrap_extensions fatal_actions config_sources " +
      "default_config_source default_socket_interface certificate_provider_instances inline_headers perf_tracing_file_path " +
      "default_regex_engine xds_delegate_extension xds_config_tracker_extension listener_manager application_log_config " +
      "grpc_async_client_manager_config memory_allocator_manager",
    fields: {
      admin: { message: "envoy.config.bootstrap.v3.Admin" },
      static_resources: { message: "envoy.config.bootstrap.v3.Bootstrap.StaticResources" },
    },
  },
  "envoy.config.bootstrap.v3.Admin": {
    declared: "access_log access_log_path profile_path address socket_options ignore_global_conn_limit allow_paths",
    fields: { address: { message: "envoy.config.core.v3.Address" } },
  },
  "envoy.config.bootstrap.v3.Bootstrap.StaticResources": {
    declared: "listeners clusters secrets",
    fields: { listeners: { repeatedMessage: "envoy.config.listener.v3.Listener" }, clusters: { repeatedMessage: "envoy.config.cluster.v3.Cluster" } },
  },
  "envoy.config.core.v3.Address": {
    declared: "socket_address pipe envoy_internal_address",
    fields: { socket_address: { message: "envoy.config.core.v3.SocketAddress" } },
    oneof: { fields: ["socket_address", "pipe", "envoy_internal_address"], required: true },
  },
  "envoy.config.core.v3.SocketAddress": {
    declared: "protocol address port_value named_port resolver_name ipv4_compat network_namespace_filepath",
    fields: { address: "string", port_value: "uint32" },
    rules: [
      (m) => (!m.address ? "address is at least 1 character" : undefined),
      (m) => (m.port_value !== undefined && m.port_value > 65535 ? "port_value is at most 65535" : undefined),
    ],
  },
  "envoy.config.listener.v3.Listener": {
    declared:
      "name address additional_addresses stat_prefix filter_chains fcds_config filter_chain_matcher use_original_dst " +
      "default_filter_chain per_connection_buffer_limit_bytes metadata deprecated_v1 drain_type listener_filters " +
      "listener_filters_timeout continue_on_listener_filters_timeout transparent freebind socket_options " +
      "tcp_fast_open_queue_length traffic_direction udp_listener_config api_listener connection_balance_config reuse_port " +
      "enable_reuse_port access_log tcp_backlog_size max_connections_to_accept_per_socket_event bind_to_port internal_listener " +
      "enable_mptcp ignore_global_conn_limit bypass_overload_manager tcp_keepalive",
    fields: {
      name: "string",
      address: { message: "envoy.config.core.v3.Address" },
      filter_chains: { repeatedMessage: "envoy.config.listener.v3.FilterChain" },
    },
  },
  "envoy.config.listener.v3.FilterChain": {
    declared: "filter_chain_match filters use_proxy_proto metadata transport_socket transport_socket_connect_timeout name",
    fields: { filters: { repeatedMessage: "envoy.config.listener.v3.Filter" } },
  },
  "envoy.config.listener.v3.Filter": {
    declared: "name typed_config config_discovery",
    fields: { name: "string", typed_config: { any: NETWORK_FILTERS } },
    rules: [(m) => (!m.name ? "name is at least 1 character" : undefined)],
  },
  [`${HCM}.HttpConnectionManager`]: {
    declared:
      "codec_type stat_prefix rds route_config scoped_routes http_filters add_user_agent tracing common_http_protocol_options " +
      "http1_safe_max_connection_duration http_protocol_options http2_protocol_options http3_protocol_options server_name " +
      "server_header_transformation scheme_header_transformation max_request_headers_kb stream_idle_timeout " +
      "stream_flush_timeout request_timeout request_headers_timeout drain_timeout delayed_close_timeout access_log " +
      "access_log_flush_interval flush_access_log_on_new_request access_log_options use_remote_address xff_num_trusted_hops " +
      "original_ip_detection_extensions early_header_mutation_extensions internal_address_config skip_xff_append via " +
      "generate_request_id preserve_external_request_id always_set_request_id_in_response forward_client_cert_details " +
      "set_current_client_cert_details forward_client_cert_matcher proxy_100_continue " +
      "represent_ipv4_remote_address_as_ipv4_mapped_ipv6 upgrade_configs normalize_path merge_slashes " +
      "path_with_escaped_slashes_action request_id_extension local_reply_config strip_matching_host_port strip_any_host_port " +
      "stream_error_on_invalid_http_message path_normalization_options strip_trailing_host_dot proxy_status_config " +
      "typed_header_validation_config append_x_forwarded_port append_local_overload add_proxy_protocol_connection_state " +
      "forward_proto_config",
    fields: {
      stat_prefix: "string",
      route_config: { message: "envoy.config.route.v3.RouteConfiguration" },
      http_filters: { repeatedMessage: `${HCM}.HttpFilter` },
    },
    rules: [(m) => (!m.stat_prefix ? "stat_prefix is at least 1 character" : undefined)],
  },
  [`${HCM}.HttpFilter`]: {
    declared: "name typed_config config_discovery is_optional disabled",
    fields: { name: "string", typed_config: { any: HTTP_FILTERS } },
    rules: [(m) => (!m.name ? "name is at least 1 character" : undefined)],
  },
  "envoy.extensions.filters.http.router.v3.Router": {
    declared:
      "dynamic_stats start_child_span upstream_log upstream_log_options suppress_envoy_headers strict_check_headers " +
      "respect_expected_rq_timeout suppress_grpc_request_failure_code_stats upstream_http_filters reject_connect_request_early_data",
    fields: {},
  },
  "envoy.config.route.v3.RouteConfiguration": {
    declared:
      "name virtual_hosts vhds internal_only_headers response_headers_to_add response_headers_to_remove request_headers_to_add " +
      "request_headers_to_remove most_specific_header_mutations_wins validate_clusters max_direct_response_body_size_bytes " +
      "cluster_specifier_plugins request_mirror_policies ignore_port_in_host_matching vhost_header " +
      "ignore_path_parameters_in_path_matching typed_per_filter_config metadata",
    fields: { name: "string", virtual_hosts: { repeatedMessage: "envoy.config.route.v3.VirtualHost" } },
  },
  "envoy.config.route.v3.VirtualHost": {
    declared:
      "name domains routes matcher require_tls virtual_clusters rate_limits request_headers_to_add request_headers_to_remove " +
      "response_headers_to_add response_headers_to_remove cors typed_per_filter_config include_request_attempt_count " +
      "include_attempt_count_in_response retry_policy retry_policy_typed_config hedge_policy include_is_timeout_retry_header " +
      "per_request_buffer_limit_bytes request_body_buffer_limit request_mirror_policies metadata",
    fields: { name: "string", domains: { repeated: "string" }, routes: { repeatedMessage: "envoy.config.route.v3.Route" } },
    rules: [(m) => (!m.name ? "name is at least 1 character" : undefined), (m) => (!m.domains?.length ? "domains has at least 1 item" : undefined)],
  },
  "envoy.config.route.v3.Route": {
    declared:
      "name match route redirect direct_response filter_action non_forwarding_action metadata decorator typed_per_filter_config " +
      "request_headers_to_add request_headers_to_remove response_headers_to_add response_headers_to_remove tracing " +
      "per_request_buffer_limit_bytes stat_prefix request_body_buffer_limit",
    fields: {
      match: { message: "envoy.config.route.v3.RouteMatch" },
      route: { message: "envoy.config.route.v3.RouteAction" },
      direct_response: { message: "envoy.config.route.v3.DirectResponseAction" },
    },
    oneof: { fields: ["route", "redirect", "direct_response", "filter_action", "non_forwarding_action"], required: true },
    rules: [(m) => (m.match === undefined ? "match is required" : undefined)],
  },
  "envoy.config.route.v3.RouteMatch": {
    declared:
      "prefix path safe_regex connect_matcher path_separated_prefix path_match_policy case_sensitive runtime_fraction headers " +
      "query_parameters cookies grpc tls_context dynamic_metadata filter_state",
    fields: { prefix: "string" },
    oneof: { fields: ["prefix", "path", "safe_regex", "connect_matcher", "path_separated_prefix", "path_match_policy"], required: true },
  },
  "envoy.config.route.v3.RouteAction": {
    declared:
      "cluster cluster_header weighted_clusters cluster_specifier_plugin inline_cluster_specifier_plugin " +
      "cluster_not_found_response_code metadata_match prefix_rewrite regex_rewrite path_rewrite_policy path_rewrite " +
      "host_rewrite_literal auto_host_rewrite host_rewrite_header host_rewrite_path_regex host_rewrite append_x_forwarded_host " +
      "timeout idle_timeout flush_timeout early_data_policy retry_policy retry_policy_typed_config request_mirror_policies " +
      "priority rate_limits include_vh_rate_limits hash_policy cors max_grpc_timeout grpc_timeout_offset upgrade_configs " +
      "internal_redirect_policy internal_redirect_action max_internal_redirects hedge_policy max_stream_duration",
    fields: { cluster: "string" },
    rules: [(m) => (m.cluster === "" ? "cluster is at least 1 character" : undefined)],
  },
  "envoy.config.route.v3.DirectResponseAction": {
    declared: "status body body_format",
    fields: { status: "uint32", body: { message: "envoy.config.core.v3.DataSource" } },
    rules: [(m) => (!(m.status >= 200 && m.status < 600) ? "status is in [200, 600)" : undefined)],
  },
  "envoy.config.cluster.v3.Cluster": {
    declared:
      "transport_socket_matches transport_socket_matcher name alt_stat_name type cluster_type eds_cluster_config " +
      "connect_timeout per_connection_buffer_limit_bytes lb_policy load_assignment health_checks max_requests_per_connection " +
      "circuit_breakers upstream_http_protocol_options common_http_protocol_options http_protocol_options " +
      "http2_protocol_options typed_extension_protocol_options dns_refresh_rate dns_jitter dns_failure_refresh_rate " +
      "respect_dns_ttl dns_lookup_family dns_resolvers use_tcp_for_dns_lookups dns_resolution_config " +
      "typed_dns_resolver_config wait_for_warm_on_init outlier_detection cleanup_interval upstream_bind_config " +
      "lb_subset_config ring_hash_lb_config maglev_lb_config original_dst_lb_config least_request_lb_config " +
      "round_robin_lb_config common_lb_config transport_socket metadata protocol_selection upstream_connection_options " +
      "close_connections_on_host_health_failure ignore_health_on_host_removal filters load_balancing_policy lrs_server " +
      "lrs_report_endpoint_metrics track_timeout_budgets upstream_config track_cluster_stats preconnect_policy " +
      "connection_pool_per_downstream_connection",
    fields: {
      name: "string",
      type: { enum: ["STATIC", "STRICT_DNS", "LOGICAL_DNS", "EDS", "ORIGINAL_DST"] },
      connect_timeout: "Duration",
      load_assignment: { message: "envoy.config.endpoint.v3.ClusterLoadAssignment" },
    },
    rules: [(m) => (!m.name ? "name is at least 1 character" : undefined)],
  },
  "envoy.config.endpoint.v3.ClusterLoadAssignment": {
    declared: "cluster_name endpoints named_endpoints policy",
    fields: { cluster_name: "string", endpoints: { repeatedMessage: "envoy.config.endpoint.v3.LocalityLbEndpoints" } },
    rules: [(m) => (!m.cluster_name ? "cluster_name is at least 1 character" : undefined)],
  },
  "envoy.config.endpoint.v3.LocalityLbEndpoints": {
    declared: "locality metadata lb_endpoints load_balancer_endpoints leds_cluster_locality_config load_balancing_weight priority proximity",
    fields: { lb_endpoints: { repeatedMessage: "envoy.config.endpoint.v3.LbEndpoint" } },
  },
  "envoy.config.endpoint.v3.LbEndpoint": {
    declared: "endpoint endpoint_name health_status metadata load_balancing_weight",
    fields: { endpoint: { message: "envoy.config.endpoint.v3.Endpoint" } },
  },
  "envoy.config.endpoint.v3.Endpoint": {
    declared: "address health_check_config hostname additional_addresses",
    fields: { address: { message: "envoy.config.core.v3.Address" } },
  },
  "envoy.extensions.filters.http.wasm.v3.Wasm": { declared: "config", fields: { config: { message: "envoy.extensions.wasm.v3.PluginConfig" } } },
  "envoy.extensions.wasm.v3.PluginConfig": {
    declared:
      "name root_id vm_config configuration fail_open failure_policy reload_config capability_restriction_config " +
      "allow_on_headers_stop_iteration",
    fields: {
      name: "string",
      root_id: "string",
      vm_config: { message: "envoy.extensions.wasm.v3.VmConfig" },
      configuration: { any: ANY_VALUES },
      fail_open: "bool",
      failure_policy: { enum: ["UNSPECIFIED", "FAIL_RELOAD", "FAIL_CLOSED", "FAIL_OPEN"] },
      reload_config: { message: "envoy.extensions.wasm.v3.ReloadConfig" },
      capability_restriction_config: { message: "envoy.extensions.wasm.v3.CapabilityRestrictionConfig" },
      allow_on_headers_stop_iteration: "BoolValue",
    },
  },
  "envoy.extensions.wasm.v3.VmConfig": {
    declared: "vm_id runtime code configuration allow_precompiled nack_on_code_cache_miss environment_variables",
    fields: {
      vm_id: "string",
      runtime: "string",
      code: { message: "envoy.config.core.v3.AsyncDataSource" },
      configuration: { any: ANY_VALUES },
      allow_precompiled: "bool",
      nack_on_code_cache_miss: "bool",
      environment_variables: { message: "envoy.extensions.wasm.v3.EnvironmentVariables" },
    },
  },
  "envoy.extensions.wasm.v3.EnvironmentVariables": {
    declared: "host_env_keys key_values",
    fields: { host_env_keys: { repeated: "string" }, key_values: { map: "string" } },
    // VmConfig.environment_variables: "Envoy rejects the configuration if there's conflict of key space."
    rules: [
      (m) => {
        const clash = (m.host_env_keys ?? []).find((key: string) => key in (m.key_values ?? {}));
        return clash === undefined ? undefined : `${clash} is both a host key and a key value`;
      },
    ],
  },
  "envoy.extensions.wasm.v3.ReloadConfig": { declared: "backoff", fields: { backoff: { message: "envoy.config.core.v3.BackoffStrategy" } } },
  "envoy.extensions.wasm.v3.CapabilityRestrictionConfig": { declared: "allowed_capabilities", fields: {} },
  "envoy.config.core.v3.BackoffStrategy": {
    declared: "base_interval max_interval",
    fields: { base_interval: "Duration", max_interval: "Duration" },
    rules: [
      (m) => (m.base_interval === undefined ? "base_interval is required" : undefined),
      (m) => (m.base_interval !== undefined && seconds(m.base_interval) < 0.001 ? "base_interval is at least 1ms" : undefined),
      (m) => (m.max_interval !== undefined && seconds(m.max_interval) <= 0 ? "max_interval is greater than 0" : undefined),
    ],
  },
  "envoy.config.core.v3.AsyncDataSource": {
    declared: "local remote",
    fields: { local: { message: "envoy.config.core.v3.DataSource" }, remote: { message: "envoy.config.core.v3.RemoteDataSource" } },
    oneof: { fields: ["local", "remote"], required: false },
  },
  "envoy.config.core.v3.DataSource": {
    declared: "filename inline_bytes inline_string environment_variable watched_directory",
    fields: { filename: "string", inline_bytes: "string", inline_string: "string", environment_variable: "string" },
    oneof: { fields: ["filename", "inline_bytes", "inline_string", "environment_variable"], required: true },
    rules: [(m) => (m.filename === "" ? "filename is at least 1 character" : undefined)],
  },
  "envoy.config.core.v3.RemoteDataSource": {
    declared: "http_uri sha256 retry_policy",
    fields: { http_uri: { message: "envoy.config.core.v3.HttpUri" }, sha256: "string" },
    rules: [
      (m) => (m.http_uri === undefined ? "http_uri is required" : undefined),
      (m) => (!m.sha256 ? "sha256 is at least 1 character" : undefined),
    ],
  },
  "envoy.config.core.v3.HttpUri": {
    declared: "uri cluster timeout",
    fields: { uri: "string", cluster: "string", timeout: "Duration" },
    rules: [
      (m) => (!m.uri ? "uri is at least 1 character" : undefined),
      (m) => (m.timeout === undefined ? "timeout is required" : undefined),
    ],
  },
};
