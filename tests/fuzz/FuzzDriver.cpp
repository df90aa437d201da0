// A deterministic driver for libFuzzer-style targets (LLVMFuzzerTestOneInput), built with GCC.
//
// Why not libFuzzer itself: Debian 12's clang 14 cannot compile libstdc++ 12's <expected>
// (it reports __cpp_concepts 201907L), and the whole core is written against std::expected.
// The targets keep libFuzzer's entry point so a newer clang can drive them unchanged; until
// then this driver replays the checked-in corpus and then runs seeded random mutations of it
// (bit flips, byte insertions and deletions, splices, dictionary words), under ASan/UBSan in the
// sanitizer build. Same seed, same inputs: a failure is reproducible from the printed seed and
// iteration.
//
//   fuzz_x [--runs N] [--seed S] [--max-len L] [--dict FILE] CORPUS_DIR_OR_FILE...
#include <QByteArray>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QList>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

// The input under test, printed (hex) when a target aborts so the finding can be replayed.
QByteArray g_current;

void onAbort(int) {
    const QByteArray hex = "\nfuzz: finding on input (hex): " + g_current.toHex() + "\n";
    (void)::write(2, hex.constData(), static_cast<size_t>(hex.size()));
    std::signal(SIGABRT, SIG_DFL);
    std::abort();
}

int runOne(const QByteArray& input) {
    g_current = input;
    return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.constData()),
                                  static_cast<size_t>(input.size()));
}

QList<QByteArray> loadInputs(const QString& path) {
    QList<QByteArray> inputs;
    const QFileInfo info(path);
    if (info.isDir()) {
        QDirIterator it(path, QDir::Files, QDirIterator::Subdirectories);
        QStringList files;
        while (it.hasNext())
            files.append(it.next());
        files.sort();
        for (const QString& file : files) {
            QFile f(file);
            if (f.open(QIODevice::ReadOnly))
                inputs.append(f.readAll());
        }
    } else {
        QFile f(path);
        if (f.open(QIODevice::ReadOnly))
            inputs.append(f.readAll());
    }
    return inputs;
}

// libFuzzer/AFL dictionary format: name="value" per line, with \xNN, \\ and \" escapes.
QList<QByteArray> loadDictionary(const QString& path) {
    QList<QByteArray> words;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return words;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        const qsizetype open = line.indexOf('"');
        const qsizetype close = line.lastIndexOf('"');
        if (line.startsWith('#') || open < 0 || close <= open)
            continue;
        const QByteArray raw = line.mid(open + 1, close - open - 1);
        QByteArray word;
        for (qsizetype i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\' && i + 1 < raw.size()) {
                if (raw[i + 1] == 'x' && i + 3 < raw.size()) {
                    word.append(static_cast<char>(raw.mid(i + 2, 2).toInt(nullptr, 16)));
                    i += 3;
                } else {
                    word.append(raw[i + 1]);
                    ++i;
                }
            } else {
                word.append(raw[i]);
            }
        }
        words.append(word);
    }
    return words;
}

QByteArray mutate(QByteArray input, std::mt19937_64& rng, const QList<QByteArray>& corpus,
                  const QList<QByteArray>& dictionary, int maxLen) {
    std::uniform_int_distribution<int> pick(0, 6);
    const int rounds = 1 + static_cast<int>(rng() % 4);
    for (int r = 0; r < rounds; ++r) {
        const auto at = [&](qsizetype size) {
            return size > 0 ? static_cast<qsizetype>(rng() % size) : 0;
        };
        switch (pick(rng)) {
        case 0: // flip a bit
            if (!input.isEmpty()) {
                const qsizetype i = at(input.size());
                input[i] = static_cast<char>(input[i] ^ (1 << (rng() % 8)));
            }
            break;
        case 1: // random byte
            if (!input.isEmpty())
                input[at(input.size())] = static_cast<char>(rng() & 0xff);
            break;
        case 2: // insert bytes
            input.insert(at(input.size() + 1), QByteArray(1 + static_cast<int>(rng() % 8),
                                                          static_cast<char>(rng() & 0xff)));
            break;
        case 3: // delete a range
            if (!input.isEmpty()) {
                const qsizetype i = at(input.size());
                input.remove(i, 1 + static_cast<qsizetype>(rng() % 16));
            }
            break;
        case 4: // dictionary word
            if (!dictionary.isEmpty())
                input.insert(at(input.size() + 1), dictionary[at(dictionary.size())]);
            break;
        case 5: // splice with another corpus entry
            if (!corpus.isEmpty()) {
                const QByteArray& other = corpus[at(corpus.size())];
                input = input.left(at(input.size() + 1)) + other.mid(at(other.size() + 1));
            }
            break;
        case 6: // duplicate a range
            if (!input.isEmpty()) {
                const qsizetype i = at(input.size());
                input.insert(i, input.mid(i, 1 + static_cast<qsizetype>(rng() % 32)));
            }
            break;
        }
    }
    if (input.size() > maxLen)
        input.truncate(maxLen);
    return input;
}

} // namespace

int main(int argc, char** argv) {
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    long long runs = 2000;
    unsigned long long seed = 1;
    int maxLen = 8192;
    QList<QByteArray> corpus;
    QList<QByteArray> dictionary;
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "--runs" && i + 1 < argc)
            runs = QByteArray(argv[++i]).toLongLong();
        else if (arg == "--seed" && i + 1 < argc)
            seed = QByteArray(argv[++i]).toULongLong();
        else if (arg == "--max-len" && i + 1 < argc)
            maxLen = QByteArray(argv[++i]).toInt();
        else if (arg == "--dict" && i + 1 < argc)
            dictionary = loadDictionary(QString::fromLocal8Bit(argv[++i]));
        else
            corpus.append(loadInputs(QString::fromLocal8Bit(arg)));
    }
    if (corpus.isEmpty())
        corpus.append(QByteArray());

    std::signal(SIGABRT, onAbort);
    for (const QByteArray& input : corpus)
        runOne(input);
    std::mt19937_64 rng(seed);
    for (long long i = 0; i < runs; ++i) {
        const QByteArray input = mutate(corpus[static_cast<qsizetype>(rng() % corpus.size())], rng,
                                        corpus, dictionary, maxLen);
        runOne(input);
    }
    std::printf("fuzz: %lld corpus inputs and %lld mutations (seed %llu): no finding\n",
                static_cast<long long>(corpus.size()), runs, seed);
    return 0;
}
