"""The standard model API names of the Models API and what each can do.

One table, used by spec validation and by ``apexgen models list``. Source: Salesforce's "Supported
Models" and "Model API Names" pages (see shared reference models-api.md, section 4). A model not in
this table (a newer standard model, BYOLLM, an Einstein Studio configured model) is declared in the
spec with its capabilities: ``alias = { configured = "API_Name", capabilities = ["chat"] }``.
"""

from __future__ import annotations

from typing import NamedTuple

LLM = ("generate", "chat")
EMBEDDINGS = ("embed",)


class StandardModel(NamedTuple):
    api_name: str
    label: str
    capabilities: tuple[str, ...]


STANDARD_MODELS: dict[str, StandardModel] = {
    m.api_name: m
    for m in (
        StandardModel("sfdc_ai__DefaultBedrockAmazonNovaLite", "Amazon Nova Lite on Amazon Bedrock", LLM),
        StandardModel("sfdc_ai__DefaultBedrockAmazonNovaPro", "Amazon Nova Pro on Amazon Bedrock", LLM),
        StandardModel(
            "sfdc_ai__DefaultBedrockAnthropicClaude3Haiku", "Anthropic Claude 3 Haiku on Amazon Bedrock", LLM
        ),
        StandardModel(
            "sfdc_ai__DefaultBedrockAnthropicClaude45Haiku", "Anthropic Claude Haiku 4.5 on Amazon Bedrock (Beta)", LLM
        ),
        StandardModel(
            "sfdc_ai__DefaultBedrockAnthropicClaude37Sonnet", "Anthropic Claude 3.7 Sonnet on Amazon Bedrock", LLM
        ),
        StandardModel(
            "sfdc_ai__DefaultBedrockAnthropicClaude4Sonnet", "Anthropic Claude Sonnet 4 on Amazon Bedrock", LLM
        ),
        StandardModel(
            "sfdc_ai__DefaultBedrockAnthropicClaude45Sonnet",
            "Anthropic Claude Sonnet 4.5 on Amazon Bedrock (Beta)",
            LLM,
        ),
        StandardModel("sfdc_ai__DefaultAzureOpenAITextEmbeddingAda_002", "Azure OpenAI Ada 002", EMBEDDINGS),
        StandardModel("sfdc_ai__DefaultOpenAITextEmbeddingAda_002", "OpenAI Ada 002", EMBEDDINGS),
        StandardModel("sfdc_ai__DefaultGPT4Omni", "OpenAI / Azure OpenAI GPT 4 Omni", LLM),
        StandardModel("sfdc_ai__DefaultGPT4OmniMini", "OpenAI / Azure OpenAI GPT 4 Omni Mini", LLM),
        StandardModel("sfdc_ai__DefaultOpenAIGPT4OmniMini", "OpenAI GPT 4 Omni Mini", LLM),
        StandardModel("sfdc_ai__DefaultGPT41", "OpenAI / Azure OpenAI GPT 4.1", LLM),
        StandardModel("sfdc_ai__DefaultGPT41Mini", "OpenAI / Azure OpenAI GPT 4.1 Mini", LLM),
        StandardModel("sfdc_ai__DefaultGPT5", "OpenAI / Azure OpenAI GPT 5", LLM),
        StandardModel("sfdc_ai__DefaultGPT5Mini", "OpenAI / Azure OpenAI GPT 5 Mini", LLM),
        StandardModel("sfdc_ai__DefaultGPT51", "OpenAI / Azure OpenAI GPT 5.1 (Beta)", LLM),
        StandardModel("sfdc_ai__DefaultO3", "OpenAI / Azure OpenAI O3 (Beta)", LLM),
        StandardModel("sfdc_ai__DefaultO4Mini", "OpenAI / Azure OpenAI O4 Mini (Beta)", LLM),
        StandardModel("sfdc_ai__DefaultVertexAIGemini20Flash001", "Vertex AI (Google) Gemini 2.0 Flash", LLM),
        StandardModel("sfdc_ai__DefaultVertexAIGemini20FlashLite001", "Vertex AI (Google) Gemini 2.0 Flash Lite", LLM),
        StandardModel("sfdc_ai__DefaultVertexAIGemini25Flash001", "Vertex AI (Google) Gemini 2.5 Flash", LLM),
        StandardModel("sfdc_ai__DefaultVertexAIGemini25FlashLite001", "Vertex AI (Google) Gemini 2.5 Flash Lite", LLM),
        StandardModel("sfdc_ai__DefaultVertexAIGeminiPro25", "Vertex AI (Google) Gemini 2.5 Pro", LLM),
    )
}

# Retired names that Salesforce reroutes to a replacement: the spec names the replacement instead.
REROUTED_MODELS: dict[str, str] = {
    "sfdc_ai__DefaultAzureOpenAIGPT35Turbo": "sfdc_ai__DefaultGPT4OmniMini",
    "sfdc_ai__DefaultAzureOpenAIGPT35Turbo_16k": "sfdc_ai__DefaultGPT4OmniMini",
    "sfdc_ai__DefaultAzureOpenAIGPT4Turbo": "sfdc_ai__DefaultGPT4Omni",
    "sfdc_ai__DefaultOpenAIGPT35Turbo": "sfdc_ai__DefaultOpenAIGPT4OmniMini",
    "sfdc_ai__DefaultOpenAIGPT35Turbo_16k": "sfdc_ai__DefaultOpenAIGPT4OmniMini",
    "sfdc_ai__DefaultOpenAIGPT4": "sfdc_ai__DefaultGPT4Omni",
    "sfdc_ai__DefaultOpenAIGPT4_32k": "sfdc_ai__DefaultGPT4Omni",
    "sfdc_ai__DefaultOpenAIGPT4Turbo": "sfdc_ai__DefaultGPT4Omni",
}
