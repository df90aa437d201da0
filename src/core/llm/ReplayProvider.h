#pragma once

#include "llm/ModelProvider.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QList>
#include <QTimer>

#include <functional>

namespace m1 {

// Plays a recorded transcript as if it were the Messages API: the offline default for demos
// and tests, so a person with no API key sees the whole flow. Each startTurn() plays the next
// recorded assistant turn, streaming its text and tool proposals with a configurable pace.
//
// Transcript (JSON):
//   {"schema": 1, "model": "claude-sonnet-4-6", "description": "...",
//    "turns": [{"content": [blocks exactly as the API sends them], "stop_reason": "tool_use",
//               "stop_details": {...}, "usage": {"input_tokens": 1200, "output_tokens": 80}},
//              {"error": {"code": "api.overloaded", "message": "..."}}, ...]}
// A turn with "error" fails that model turn with the code given. The requests are not
// interpreted: the replay never depends on what the run sends (tool outputs stay data).
class ReplayProvider : public ModelProvider {
    Q_OBJECT
public:
    struct Transcript {
        QString model;
        QString description;
        QJsonArray turns;
        QString source;
    };
    struct Options {
        int pacingMs = 0;    // pause between streamed pieces; 0: as fast as the event loop
        int chunkChars = 16; // text is streamed in pieces of about this size
    };

    // Errors: "replay.open", "replay.invalid" (naming the file and the turn).
    static Result<Transcript> load(const QString& path);
    static Result<Transcript> parse(const QByteArray& json, const QString& source);

    ReplayProvider(Transcript transcript, Options options, QObject* parent = nullptr);

    void startTurn(const ModelRequest& request) override;
    void cancel() override;
    bool isBusy() const override { return m_busy; }
    bool isBilled() const override { return false; }

    int turnsPlayed() const { return m_next; }
    const QList<ModelRequest>& requests() const { return m_requests; }

private:
    void step();

    Transcript m_transcript;
    Options m_options;
    QTimer m_timer;
    QList<std::function<void()>> m_pieces;
    QList<ModelRequest> m_requests;
    qsizetype m_piece = 0;
    int m_next = 0;
    bool m_busy = false;
    quint64 m_generation = 0;
};

} // namespace m1
