//! The MCP server: one server type carries the tools, prompts, completions and resources;
//! each transport is a few lines around it. Handlers are hand-written rather than macro
//! generated so that every tool's schema, annotations and error path come from one table
//! (`tools::DEFS`) that `schemas/` is generated from too.

pub mod apps;
pub mod http;
pub mod prompts;
pub mod resources;
pub mod schemas;
pub mod stdio;
pub mod store_tools;
pub mod tools;

use std::sync::{Arc, OnceLock};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    CompletionInfo, ContentBlock, CustomRequest, CustomResult, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Reference, Resource, ResourceContents,
    ResourceTemplate, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};

use crate::model::InputError;
use crate::model::values::quote;
use crate::service::Planner;

use self::resources::{
    ACCOUNT_TEMPLATE, PLAYBOOK_URI, POLICY_URI, SCHEMA_URI, account_json, account_name,
    account_uri, policy_json,
};
use self::tools::CallError;

/// The expansion-planner MCP server.
#[derive(Clone)]
pub struct ExpansionServer {
    planner: Planner,
    /// Work of this server (and its clones) on the blocking pool, tracked until it ends.
    off_runtime: tokio_util::task::TaskTracker,
}

/// The advertised tools, generated once. Generating the ten tools' JSON Schemas takes a few
/// milliseconds, longer than the rest of start-up, so it is not done before the handshake:
/// [`warm_up`] starts it on a thread of its own, and `tools/list` waits for it if needed.
static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();

fn tools() -> &'static [Tool] {
    TOOLS.get_or_init(tool_list)
}

/// Prepares, on a background thread, what the first requests will need (the tool list, and
/// the account store when it opens on first use: for `--demo` that parses and imports the
/// demo portfolio), while the client reads the answer to `initialize`.
pub fn warm_up(accounts: Arc<crate::accounts::Accounts>) {
    let spawned = std::thread::Builder::new()
        .name("warm-up".into())
        .spawn(move || {
            tools();
            accounts.warm_up();
        });
    if let Err(e) = spawned {
        tracing::debug!("no warm-up thread ({e}); the first requests prepare what they need");
    }
}

/// The most threads the runtime runs blocking work on (tool calls, store reads): calls
/// beyond it wait for a thread, while the runtime itself keeps answering pings.
pub const MAX_BLOCKING_THREADS: usize = 32;

/// Account resources listed per page.
const RESOURCE_PAGE: usize = 100;

/// The tool list as advertised: title, description, schemas and read-only annotations.
pub fn tool_list() -> Vec<Tool> {
    tools::DEFS
        .iter()
        .map(|d| {
            Tool::new(d.name, d.description, (d.input)())
                .with_title(d.title)
                .with_raw_output_schema(std::sync::Arc::new(schemas::lean_output(&(d.output)())))
                .with_annotations(
                    ToolAnnotations::with_title(d.title)
                        .read_only(d.read_only)
                        .destructive(false)
                        .idempotent(true)
                        .open_world(false),
                )
        })
        .collect()
}

fn tool_error(msg: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(msg.into())])
}

/// The `data` of a resource error: the URI, unless it is too long to be worth repeating.
fn uri_data(uri: &str) -> Option<serde_json::Value> {
    (uri.len() <= 2048).then(|| serde_json::json!({ "uri": uri }))
}

fn invalid_params(e: &InputError) -> McpError {
    McpError::invalid_params(e.to_string(), None)
}

impl ExpansionServer {
    pub fn new(planner: Planner) -> ExpansionServer {
        ExpansionServer {
            planner,
            off_runtime: tokio_util::task::TaskTracker::new(),
        }
    }

    /// Runs a tool call to completion; never fails at the protocol level except for an
    /// unknown tool name.
    pub fn call(
        &self,
        name: &str,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<CallToolResult, McpError> {
        let args = serde_json::Value::Object(arguments.unwrap_or_default());
        let started = std::time::Instant::now();
        let result = tools::call(&self.planner, name, args).map(|answer| {
            // Not `CallToolResult::structured`: it renders the value as text first, only
            // for that text to be replaced by the markdown (20 µs on a 25 KB plan).
            let mut r = CallToolResult::success(vec![ContentBlock::text(answer.markdown)]);
            r.structured_content = Some(answer.structured);
            r
        });
        let outcome = match &result {
            Ok(_) => "ok",
            Err(CallError::Input(_)) => "input_error",
            Err(CallError::Internal(_)) => "internal_error",
            Err(CallError::UnknownTool(_)) => "unknown_tool",
        };
        // On the request's own span over HTTP (see `call_tool`), so that its log line
        // names the tool and how it ended; on stdio this event is the call's line.
        let span = tracing::Span::current();
        span.record("tool", tracing::field::display(name));
        span.record("outcome", tracing::field::display(outcome));
        tracing::info!(
            tool = name,
            outcome,
            elapsed_us = started.elapsed().as_micros() as u64,
            "tool call"
        );
        match result {
            Ok(r) => Ok(r),
            Err(CallError::Input(e)) => Ok(tool_error(format!("invalid arguments: {e}"))),
            Err(CallError::Internal(msg)) => Ok(tool_error(msg)),
            Err(CallError::UnknownTool(n)) => Err(McpError::invalid_params(
                format!(
                    "unknown tool {}; tools: {}",
                    quote(&n),
                    tools::DEFS
                        .iter()
                        .map(|d| d.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            )),
        }
    }

    /// Runs `work` (store reads and engine work: a segment plan over a large store takes
    /// seconds) on the runtime's blocking pool, so that the async runtime keeps answering
    /// pings, cancellations and other calls meanwhile. On stdio the runtime has one thread;
    /// without this, one `plan_segment` would hold every other message until it ends.
    /// A panic in `work` is answered as an internal error naming `what`. The pool is
    /// bounded by the runtime ([`MAX_BLOCKING_THREADS`]); calls beyond it queue.
    async fn off_runtime<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce(&ExpansionServer) -> T + Send + 'static,
    ) -> Result<T, McpError> {
        let server = self.clone();
        // Tracked until the work ends, not until its caller stops waiting: a cancelled
        // call's work still runs on the pool.
        let done = self.off_runtime.spawn_blocking(move || work(&server)).await;
        done.map_err(|e| {
            tracing::error!("{what} failed: {e}");
            McpError::internal_error(format!("internal error: {what} failed"), None)
        })
    }

    /// Whether a call to `tool` runs on the runtime itself: on a single-threaded runtime
    /// (stdio), a read-only one-account tool while nothing is on the blocking pool. It reads
    /// one account (a WAL read, with nothing else holding the connection) and computes for
    /// tens of microseconds, less than the hand-off to the pool costs on a busy machine.
    fn inline(&self, tool: &str) -> bool {
        tools::find(tool).is_some_and(|d| d.read_only && d.reads_account)
            && self.off_runtime.is_empty()
            && tokio::runtime::Handle::try_current()
                .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread)
    }

    fn completions(&self, r: &Reference, arg: &str, prefix: &str) -> Vec<String> {
        let wants_customer = match r {
            Reference::Prompt(p) => {
                (p.name == prompts::EXPANSION_PLAN || p.name == prompts::HEALTH_CHECK)
                    && arg == "customer"
            }
            Reference::Resource(res) => res.uri == ACCOUNT_TEMPLATE && arg == "name",
            _ => false,
        };
        if !wants_customer {
            return Vec::new();
        }
        // Prompts take a segment as well as an account; the account resource only a name.
        crate::listing::complete(
            &self.planner,
            prefix,
            matches!(r, Reference::Prompt(_)),
            CompletionInfo::MAX_VALUES + 1,
        )
    }
}

impl ServerHandler for ExpansionServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .enable_completions()
                .enable_extensions_with(if self.planner.views {
                    apps::server_extensions()
                } else {
                    Default::default()
                })
                .build(),
        )
        .with_server_info(
            Implementation::new("expansion-planner", env!("CARGO_PKG_VERSION"))
                .with_title("Expansion Planner"),
        )
        .with_instructions(if self.planner.demo {
            crate::prompts::DEMO_INSTRUCTIONS
        } else {
            crate::prompts::INSTRUCTIONS
        })
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let views = apps::enabled(self.planner.views, &context);
        Ok(ListToolsResult::with_all_items(apps::tool_list(
            tools(),
            views,
        )))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools().iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let span = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<http::RequestSpan>())
            .map_or_else(tracing::Span::none, |s| s.0.clone());
        if self.inline(&request.name) {
            return span
                .in_scope(|| self.call(&request.name, request.arguments))
                .map(Into::into);
        }
        self.off_runtime("the tool call", move |s| {
            span.in_scope(|| s.call(&request.name, request.arguments))
        })
        .await?
        .map(Into::into)
    }

    /// rmcp hands over every request it cannot parse as a known one: unknown methods, and
    /// known methods whose `params` do not fit (`"arguments": "text"`). Its default answers
    /// both with "method not found" and only the method name; this says which it was and,
    /// for the second, which parameter is wrong.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, McpError> {
        Err(custom_request_error(&request.method, request.params))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let args = request.arguments.unwrap_or_default();
        let name = request.name;
        let (name, built) = self
            .off_runtime("building a prompt", move |s| {
                let built = prompts::get(&s.planner, &name, &args);
                (name, built)
            })
            .await?;
        match built {
            Ok(Some(p)) => Ok(p.into()),
            Ok(None) => Err(McpError::invalid_params(
                format!(
                    "unknown prompt {}; prompts: {}, {}",
                    quote(&name),
                    prompts::EXPANSION_PLAN,
                    prompts::HEALTH_CHECK
                ),
                None,
            )),
            Err(crate::accounts::SourceError::Input(e)) => Err(invalid_params(&e)),
            Err(e) => Err(McpError::internal_error(e.to_string(), None)),
        }
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let all = self
            .off_runtime("the completion", move |s| {
                s.completions(
                    &request.r#ref,
                    &request.argument.name,
                    &request.argument.value,
                )
            })
            .await?;
        let total = all.len();
        let values: Vec<String> = all.into_iter().take(CompletionInfo::MAX_VALUES).collect();
        let info = if values.len() < total {
            CompletionInfo::with_pagination(
                values,
                Some(u32::try_from(total).unwrap_or(u32::MAX)),
                true,
            )
        } else {
            CompletionInfo::with_all_values(values)
        }
        .map_err(|e| McpError::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        // The store may hold many accounts: they are listed a page at a time, and the cursor
        // is the offset of the next page.
        let offset: usize = match request.and_then(|r| r.cursor) {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| McpError::invalid_params(format!("invalid cursor `{c}`"), None))?,
        };
        let mut items = Vec::new();
        if offset == 0 {
            items.extend([
                Resource::new(POLICY_URI, "policy")
                    .with_title("Active policy (thresholds)")
                    .with_description("Every threshold the server applies, as JSON")
                    .with_mime_type("application/json"),
                Resource::new(PLAYBOOK_URI, "playbook")
                    .with_title("Rules the server enforces")
                    .with_description(
                        "The expansion playbook's steps, rules and thresholds as enforced",
                    )
                    .with_mime_type("text/markdown"),
                Resource::new(SCHEMA_URI, "account-schema")
                    .with_title("Account snapshot JSON Schema")
                    .with_description("What `snapshot` accepts in every tool")
                    .with_mime_type("application/schema+json"),
            ]);
            if apps::enabled(self.planner.views, &context) {
                items.extend(apps::resources());
            }
        }
        let page = self
            .off_runtime("listing resources", move |s| {
                s.planner.accounts.names_page(offset, RESOURCE_PAGE + 1)
            })
            .await?
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let more = page.len() > RESOURCE_PAGE;
        for (name, segment) in page.into_iter().take(RESOURCE_PAGE) {
            items.push(
                Resource::new(account_uri(&name), name.clone())
                    .with_title(format!("Account: {name}"))
                    .with_description(format!(
                        "Snapshot of {name}{}",
                        segment.map(|s| format!(" ({s})")).unwrap_or_default()
                    ))
                    .with_mime_type("application/json"),
            );
        }
        let mut result = ListResourcesResult::with_all_items(items);
        if more {
            result.next_cursor = Some((offset + RESOURCE_PAGE).to_string());
        }
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(ACCOUNT_TEMPLATE, "account")
                .with_title("Account snapshot")
                .with_description("A known account's snapshot, by name")
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.as_str();
        if apps::enabled(self.planner.views, &context)
            && let Some(view) = apps::read(uri)
        {
            return Ok(view.into());
        }
        let (text, mime) = match uri {
            POLICY_URI => (policy_json(&self.planner.policy), "application/json"),
            PLAYBOOK_URI => (
                crate::engine::policy::playbook_markdown(&self.planner.policy),
                "text/markdown",
            ),
            SCHEMA_URI => (
                serde_json::to_string_pretty(schemas::account().as_ref()).unwrap_or_default(),
                "application/schema+json",
            ),
            _ => {
                let Some(name) = account_name(uri) else {
                    return Err(McpError::resource_not_found(
                        format!("resource not found: {}", quote(uri)),
                        uri_data(uri),
                    ));
                };
                let found = self
                    .off_runtime("reading a resource", move |s| {
                        s.planner
                            .accounts
                            .find(&name, "uri")
                            .map(|f| account_json(&f.snapshot))
                    })
                    .await?;
                match found {
                    Ok(json) => (json, "application/json"),
                    Err(e) => {
                        return Err(McpError::resource_not_found(e.to_string(), uri_data(uri)));
                    }
                }
            }
        };
        Ok(
            ReadResourceResult::new(vec![ResourceContents::text(text, uri).with_mime_type(mime)])
                .into(),
        )
    }
}

/// The answer to a request rmcp could not route: a known method with bad `params`, or an
/// unknown method.
fn custom_request_error(method: &str, params: Option<serde_json::Value>) -> McpError {
    let params = params.unwrap_or(serde_json::Value::Null);
    let needs_params = matches!(
        method,
        "tools/call" | "prompts/get" | "resources/read" | "completion/complete" | "initialize"
    );
    if needs_params && params.is_null() {
        return McpError::invalid_params(format!("params is required for `{method}`"), None);
    }
    let problem = match method {
        "tools/call" => params_problem::<CallToolRequestParams>(params),
        "prompts/get" => params_problem::<GetPromptRequestParams>(params),
        "resources/read" => params_problem::<ReadResourceRequestParams>(params),
        "completion/complete" => params_problem::<CompleteRequestParams>(params),
        "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list" => {
            params_problem::<PaginatedRequestParams>(params)
        }
        "initialize" => params_problem::<rmcp::model::InitializeRequestParams>(params),
        "ping" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => None,
        _ => {
            return McpError::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                format!(
                    "method not found: {}; this server answers initialize, ping, tools/list, tools/call, prompts/list, prompts/get, resources/list, resources/templates/list, resources/read and completion/complete",
                    quote(method)
                ),
                None,
            );
        }
    };
    McpError::invalid_params(
        match problem {
            Some(p) => format!("invalid params for `{method}`: {p}"),
            None => format!("invalid params for `{method}`"),
        },
        None,
    )
}

/// Why `params` do not fit `T`, naming the parameter: `params.arguments is invalid: ...`.
fn params_problem<T: serde::de::DeserializeOwned>(params: serde_json::Value) -> Option<String> {
    crate::model::input::from_value::<T>(params)
        .err()
        .map(|e| e.prefixed("params").to_string())
}

/// Serves MCP over stdin/stdout (see [`stdio`]) until the client closes stdin, then returns
/// `Ok` (exit 0). Pipes (as MCP clients launch servers) are driven by the async reactor.
pub async fn serve_stdio(planner: Planner) -> anyhow::Result<()> {
    let accounts = planner.accounts.clone();
    let server = ExpansionServer::new(planner);
    let (read, write) = rmcp::transport::stdio_pipes();
    let running = server
        .serve(stdio::LineTransport::new(read, write))
        .await
        .map_err(|e| anyhow::anyhow!("MCP handshake failed: {e}"))?;
    // After the handshake, not before: on a single core the warm-up thread would otherwise
    // share the CPU with the answer to `initialize` (measured: 4.4 ms instead of 2.0 ms).
    warm_up(accounts);
    let reason = running
        .waiting()
        .await
        .map_err(|e| anyhow::anyhow!("MCP server stopped: {e}"))?;
    tracing::info!(?reason, "stdio session ended");
    Ok(())
}
