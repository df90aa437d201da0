#include "llm/ReplayProvider.h"

#include <QFile>
#include <QJsonDocument>

namespace m1 {

namespace {

struct R {
    Q_DECLARE_TR_FUNCTIONS(ReplayProvider)
};

} // namespace

Result<ReplayProvider::Transcript> ReplayProvider::load(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("replay.open"),
                    R::tr("Cannot read the transcript %1: %2").arg(path, file.errorString()));
    return parse(file.read(64 * 1024 * 1024), path);
}

Result<ReplayProvider::Transcript> ReplayProvider::parse(const QByteArray& json,
                                                         const QString& source) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return fail(
            QStringLiteral("replay.invalid"),
            R::tr("The transcript %1 is not a JSON object (%2).").arg(source, error.errorString()));
    const QJsonObject root = doc.object();
    Transcript t;
    t.source = source;
    t.model = root.value(QLatin1String("model")).toString(QStringLiteral("claude-sonnet-4-6"));
    t.description = root.value(QLatin1String("description")).toString();
    t.turns = root.value(QLatin1String("turns")).toArray();
    if (t.turns.isEmpty())
        return fail(QStringLiteral("replay.invalid"),
                    R::tr("The transcript %1 has no \"turns\".").arg(source));
    for (qsizetype i = 0; i < t.turns.size(); ++i) {
        const QJsonObject turn = t.turns.at(i).toObject();
        if (turn.contains(QLatin1String("error")))
            continue;
        if (!turn.value(QLatin1String("content")).isArray() ||
            !turn.value(QLatin1String("stop_reason")).isString())
            return fail(QStringLiteral("replay.invalid"),
                        R::tr("Turn %1 of the transcript %2 needs \"content\" (an array) and "
                              "\"stop_reason\".")
                            .arg(i + 1)
                            .arg(source));
        for (const QJsonValue& block : turn.value(QLatin1String("content")).toArray())
            if (block.toObject().value(QLatin1String("type")).toString() ==
                    QLatin1String("tool_use") &&
                (block.toObject().value(QLatin1String("id")).toString().isEmpty() ||
                 !block.toObject().value(QLatin1String("input")).isObject()))
                return fail(QStringLiteral("replay.invalid"),
                            R::tr("Turn %1 of the transcript %2: a tool_use block needs an "
                                  "\"id\" and an object \"input\".")
                                .arg(i + 1)
                                .arg(source));
    }
    return t;
}

ReplayProvider::ReplayProvider(Transcript transcript, Options options, QObject* parent)
    : ModelProvider(parent), m_transcript(std::move(transcript)), m_options(options) {
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &ReplayProvider::step);
}

void ReplayProvider::startTurn(const ModelRequest& request) {
    if (m_busy)
        return;
    m_busy = true;
    ++m_generation;
    m_requests.append(request);
    m_pieces.clear();
    m_piece = 0;
    const int index = m_next++;
    emit attemptStarted(1);

    if (index >= m_transcript.turns.size()) {
        m_pieces.append([this] {
            m_busy = false;
            emit turnFailed(Error{
                QStringLiteral("replay.exhausted"),
                R::tr("The recorded transcript %1 has no more turns.").arg(m_transcript.source)});
        });
        m_timer.start(0);
        return;
    }
    const QJsonObject turn = m_transcript.turns.at(index).toObject();
    if (turn.contains(QLatin1String("error"))) {
        const QJsonObject e = turn.value(QLatin1String("error")).toObject();
        m_pieces.append([this, e, index] {
            ApiAttempt attempt;
            attempt.model = m_transcript.model;
            attempt.requestId = QStringLiteral("replay_%1").arg(index + 1);
            attempt.error = Error{e.value(QLatin1String("code")).toString(),
                                  e.value(QLatin1String("message")).toString()};
            attempt.errorType = e.value(QLatin1String("type")).toString();
            attempt.httpStatus = e.value(QLatin1String("status")).toInt();
            m_busy = false;
            emit attemptFinished(attempt);
            emit turnFailed(attempt.error);
        });
        m_timer.start(0);
        return;
    }

    const QJsonArray content = turn.value(QLatin1String("content")).toArray();
    for (qsizetype i = 0; i < content.size(); ++i) {
        const QJsonObject block = content.at(i).toObject();
        const QString type = block.value(QLatin1String("type")).toString();
        const int blockIndex = int(i);
        if (type == QLatin1String("text") || type == QLatin1String("thinking")) {
            const bool thinking = type == QLatin1String("thinking");
            const QString text =
                block.value(thinking ? QLatin1String("thinking") : QLatin1String("text"))
                    .toString();
            const int size = qMax(1, m_options.chunkChars);
            for (qsizetype at = 0; at < text.size(); at += size) {
                const QString piece = text.mid(at, size);
                m_pieces.append([this, piece, blockIndex, thinking] {
                    if (thinking)
                        emit thinkingDelta(blockIndex, piece);
                    else
                        emit textDelta(blockIndex, piece);
                });
            }
        } else if (type == QLatin1String("tool_use")) {
            const QString id = block.value(QLatin1String("id")).toString();
            const QString name = block.value(QLatin1String("name")).toString();
            const QJsonObject input = block.value(QLatin1String("input")).toObject();
            m_pieces.append(
                [this, blockIndex, id, name] { emit toolUseStarted(blockIndex, id, name); });
            m_pieces.append([this, blockIndex, id, name, input] {
                emit toolUsePreview(blockIndex, id, name, input);
            });
        }
    }
    m_pieces.append([this, turn, content, index] {
        AssistantMessage message;
        message.id = QStringLiteral("msg_replay_%1").arg(index + 1);
        message.model = m_transcript.model;
        message.requestId = QStringLiteral("replay_%1").arg(index + 1);
        message.content = content;
        message.stopReason = turn.value(QLatin1String("stop_reason")).toString();
        message.stopDetails = turn.value(QLatin1String("stop_details")).toObject();
        message.stopSequence = turn.value(QLatin1String("stop_sequence"));
        if (turn.contains(QLatin1String("usage")))
            message.usage.merge(turn.value(QLatin1String("usage")).toObject());
        message.usage.final = message.usage.known;
        ApiAttempt attempt;
        attempt.model = message.model;
        attempt.requestId = message.requestId;
        attempt.httpStatus = 200;
        attempt.usage = message.usage;
        m_busy = false;
        emit attemptFinished(attempt);
        emit turnFinished(message);
    });
    m_timer.start(0);
}

void ReplayProvider::step() {
    const quint64 generation = m_generation;
    // With no pacing everything plays in one go; a cancel from a slot stops it in between.
    do {
        if (m_piece >= m_pieces.size())
            return;
        const auto piece = m_pieces.at(m_piece++);
        piece();
        if (generation != m_generation || !m_busy)
            return;
    } while (m_options.pacingMs <= 0);
    m_timer.start(m_options.pacingMs);
}

void ReplayProvider::cancel() {
    if (!m_busy)
        return;
    m_timer.stop();
    m_pieces.clear();
    ++m_generation;
    m_busy = false;
    const Error error{QStringLiteral("api.cancelled"), R::tr("The model turn was cancelled.")};
    ApiAttempt attempt;
    attempt.model = m_transcript.model;
    attempt.error = error;
    attempt.errorType = QStringLiteral("cancelled");
    emit attemptFinished(attempt);
    emit turnFailed(error);
}

} // namespace m1
