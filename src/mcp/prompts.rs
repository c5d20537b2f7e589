//! Prompts, which clients show as slash commands: `/expansion-plan <customer>` and
//! `/health-check <customer>`. What they say is [`crate::prompts`].

use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};

use crate::accounts::SourceError;
pub use crate::prompts::{DEMO_NOTE, EXPANSION_PLAN, HEALTH_CHECK};
use crate::service::Planner;

pub fn list() -> Vec<Prompt> {
    let args = || {
        Some(vec![
            PromptArgument::new("customer")
                .with_title("Customer or segment")
                .with_description("A customer name (or id), or a segment such as Mid-Market")
                .with_required(true),
            PromptArgument::new("as_of")
                .with_title("As of")
                .with_description("The day to compute from, YYYY-MM-DD (default: today)")
                .with_required(false),
        ])
    };
    vec![
        Prompt::new(
            EXPANSION_PLAN,
            Some("Plan expansion revenue for a healthy customer: health gate, signals, opportunity, framing, timing, approach, risks and success criteria, every figure computed by the server"),
            args(),
        )
        .with_title("Expansion plan"),
        Prompt::new(
            HEALTH_CHECK,
            Some("Run the mandatory health prerequisite check for a customer and, when it fails, the recovery plan"),
            args(),
        )
        .with_title("Health check"),
    ]
}

/// Builds a prompt. Errors name the argument that was wrong.
pub fn get(
    planner: &Planner,
    name: &str,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<GetPromptResult>, SourceError> {
    Ok(
        crate::prompts::text(planner, name, args)?.map(|(description, text)| {
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(description)
        }),
    )
}
