// FUZZ-05: StreamAssembler over arbitrary event streams. Oracles: a tool_use preview only for
// a block closed by content_block_stop with parsable JSON, at most one per block; an error is
// final (no completion after it); a complete message holds an object input for every tool_use.
#include "llm/SseParser.h"
#include "llm/StreamAssembler.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSet>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool quiet = [] {
        QLoggingCategory::setFilterRules(QStringLiteral("m1.llm.*=false"));
        return true;
    }();
    (void)quiet;
    m1::SseParser parser;
    QList<m1::SseEvent> events;
    (void)parser.feed(QByteArrayView(reinterpret_cast<const char*>(data), qsizetype(size)), events);
    (void)parser.finish();

    m1::StreamAssembler assembler;
    QSet<int> stopped; // indexes whose content_block_stop was handled
    QSet<int> previewed;
    int lastStopIndex = -1;
    m1::StreamAssembler::Callbacks cb;
    cb.toolUseComplete = [&](int index, const QString&, const QString&, const QJsonObject&) {
        if (previewed.contains(index) || index != lastStopIndex)
            std::abort();
        previewed.insert(index);
    };
    assembler.setCallbacks(cb);
    bool failed = false;
    for (const m1::SseEvent& e : events) {
        lastStopIndex = -1;
        const QJsonObject root = QJsonDocument::fromJson(e.data).object();
        const bool isStop = e.type == "content_block_stop" ||
                            (e.type == "message" &&
                             root.value("type").toString() == QLatin1String("content_block_stop"));
        if (isStop && root.value("index").isDouble())
            lastStopIndex = int(root.value("index").toDouble());
        const auto s = assembler.handle(e);
        if (failed && (s.has_value() || assembler.isComplete()))
            std::abort(); // an error is final
        if (!s)
            failed = true;
    }
    if (failed && !assembler.hasFailed())
        std::abort();
    if (assembler.isComplete() && !assembler.hasFailed()) {
        for (const QJsonValue& v : assembler.message().content) {
            const QJsonObject block = v.toObject();
            if (block.value("type").toString() == QLatin1String("tool_use") &&
                !block.value("input").isObject())
                std::abort();
        }
    }
    return 0;
}
