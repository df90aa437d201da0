#pragma once

#include <QJsonObject>
#include <QString>

#include <optional>

namespace m1 {

// One row of a run's timeline: a step marker, the assistant's text, a proposal card or a notice.
struct TimelineEntry {
    enum class Kind { Step, Text, Proposal, Notice };

    Kind kind = Kind::Notice;
    int step = 0;
    QString text; // Text: what the assistant wrote; Notice: the message; Step: a caption
    bool isError = false;

    // Proposal cards.
    QString callId;
    QString tool;
    QString scope;
    QJsonObject arguments;
    QString policy;       // allow, ask, deny
    QString policyReason; // the policy's words
    QString approverKind; // person, rule, token, auto
    QString approver;
    QString decisionReason;
    QString status; // proposed, awaiting, approved, denied, expired, executing, executed, ...
    QString output;
    bool edited = false;
    qint64 startedMs = 0; // when execution began (ms since the epoch)
    qint64 durationMs = -1;
    // The approval token, once issued: the first 12 hex digits of its argsSha256, its expiry
    // (ms since the epoch; 0 unknown) and its state: "live" (waiting for the tool), "using" (the
    // tool took it), "used", "unused" (never will be), or empty (history: one was issued).
    QString tokenFingerprint;
    qint64 tokenExpiresMs = 0;
    QString tokenState;
    // How the person decided (history, SBX-27).
    std::optional<qint64> decisionMs;
    std::optional<bool> argsSeenWhole;
    std::optional<bool> decidedInBatch;
    QString decidedBy;

    // Step rows: the turn's API usage.
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    std::optional<qint64> costMicros;

    // Layout cache of the delegate (width it was measured at, height).
    mutable int cachedWidth = -1;
    mutable int cachedHeight = 0;
};

} // namespace m1
