<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>AuditChain</name>
    <message numerus="yes">
        <source>%1 (%n disagreement(s) in all.)</source>
        <translation>
            <numerusform>%1 (%n disagreement in all.)</numerusform>
            <numerusform>%1 (%n disagreements in all.)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReadFileTool</name>
    <message numerus="yes">
        <source>start_line %1 is beyond the end of &quot;%2&quot; (%n line(s)%3).</source>
        <translation>
            <numerusform>start_line %1 is beyond the end of &quot;%2&quot; (%n line%3).</numerusform>
            <numerusform>start_line %1 is beyond the end of &quot;%2&quot; (%n lines%3).</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SearchFilesTool</name>
    <message numerus="yes">
        <source>
[%n line(s) could not be searched to the end: the pattern needs too many backtracking steps (match limit); they may hold matches: %1]</source>
        <translation>
            <numerusform>
[%n line could not be searched to the end: the pattern needs too many backtracking steps (match limit); they may hold matches: %1]</numerusform>
            <numerusform>
[%n lines could not be searched to the end: the pattern needs too many backtracking steps (match limit); they may hold matches: %1]</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>
[%n file(s) with more than one hard link skipped: a hard link may name a file outside the workspace]</source>
        <translation>
            <numerusform>
[%n file with more than one hard link skipped: a hard link may name a file outside the workspace]</numerusform>
            <numerusform>
[%n files with more than one hard link skipped: a hard link may name a file outside the workspace]</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::AlertsView</name>
    <message numerus="yes">
        <source>%n open alert(s)</source>
        <translation>
            <numerusform>%n open alert</numerusform>
            <numerusform>%n open alerts</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::ApprovalCallView</name>
    <message numerus="yes">
        <source>%n argument(s), one per row, run directly (no shell); the longest has %1 characters. Scroll to see every one whole.</source>
        <translation>
            <numerusform>%n argument, one per row, run directly (no shell); the longest has %1 characters. Scroll to see every one whole.</numerusform>
            <numerusform>%n arguments, one per row, run directly (no shell); the longest has %1 characters. Scroll to see every one whole.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::ApprovalDialog</name>
    <message numerus="yes">
        <source>%n more waiting</source>
        <translation>
            <numerusform>%n more waiting</numerusform>
            <numerusform>%n more waiting</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::ChartsView</name>
    <message numerus="yes">
        <source>%1 (%n API call(s))</source>
        <translation>
            <numerusform>%1 (%n API call)</numerusform>
            <numerusform>%1 (%n API calls)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::ClaudeProvider</name>
    <message numerus="yes">
        <source>(gave up after %n attempt(s))</source>
        <translation>
            <numerusform>(gave up after %n attempt)</numerusform>
            <numerusform>(gave up after %n attempts)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::HistoryView</name>
    <message numerus="yes">
        <source>%n run(s) loaded</source>
        <translation>
            <numerusform>%n run loaded</numerusform>
            <numerusform>%n runs loaded</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Audit trail intact (%n event(s) checked)</source>
        <translation>
            <numerusform>Audit trail intact (%n event checked)</numerusform>
            <numerusform>Audit trail intact (%n events checked)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::MainWindow</name>
    <message numerus="yes">
        <source>Deny all %n pending proposal(s)?</source>
        <translation>
            <numerusform>Deny all %n pending proposal?</numerusform>
            <numerusform>Deny all %n pending proposals?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n approval(s) pending</source>
        <translation>
            <numerusform>%n approval pending</numerusform>
            <numerusform>%n approvals pending</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::RunTab</name>
    <message numerus="yes">
        <source>The conversation was trimmed to fit the context window (%n old result(s) replaced).</source>
        <translation>
            <numerusform>The conversation was trimmed to fit the context window (%n old result replaced).</numerusform>
            <numerusform>The conversation was trimmed to fit the context window (%n old results replaced).</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::SettingsDialog</name>
    <message numerus="yes">
        <source>Valid: %n rule(s).</source>
        <translation>
            <numerusform>Valid: %n rule.</numerusform>
            <numerusform>Valid: %n rules.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>m1::TimelineDelegate</name>
    <message numerus="yes">
        <source>Plan: %1 of %n step(s) done</source>
        <translation>
            <numerusform>Plan: %1 of %n step done</numerusform>
            <numerusform>Plan: %1 of %n steps done</numerusform>
        </translation>
    </message>
</context>
</TS>
