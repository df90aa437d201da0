#include "policy/GlobMatcher.h"

#include <QtTest>

using m1::GlobMatcher;

class TestGlobMatcher : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pathMode_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("expected");
        QTest::newRow("literal") << "src/a.cpp"
                                 << "src/a.cpp" << true;
        QTest::newRow("literal-other") << "src/a.cpp"
                                       << "src/b.cpp" << false;
        QTest::newRow("star-one-level") << "src/*.cpp"
                                        << "src/a.cpp" << true;
        QTest::newRow("star-no-slash") << "src/*.cpp"
                                       << "src/sub/a.cpp" << false;
        QTest::newRow("star-matches-dotfile") << "*"
                                              << ".env" << true;
        QTest::newRow("doublestar-tail-self") << "src/**"
                                              << "src" << true;
        QTest::newRow("doublestar-tail-deep") << "src/**"
                                              << "src/a/b/c" << true;
        QTest::newRow("doublestar-tail-prefix-only") << "src/**"
                                                     << "srcx/a" << false;
        QTest::newRow("doublestar-lead-top") << "**/*.md"
                                             << "README.md" << true;
        QTest::newRow("doublestar-lead-deep") << "**/*.md"
                                              << "a/b/c.md" << true;
        QTest::newRow("doublestar-lead-wrong-ext") << "**/*.md"
                                                   << "a/b/c.mdx" << false;
        QTest::newRow("doublestar-middle") << "a/**/z"
                                           << "a/z" << true;
        QTest::newRow("doublestar-middle-deep") << "a/**/z"
                                                << "a/b/c/z" << true;
        QTest::newRow("doublestar-in-word") << "a**z"
                                            << "a/b/z" << true;
        QTest::newRow("question") << "?.txt"
                                  << "a.txt" << true;
        QTest::newRow("question-no-slash") << "a?b"
                                           << "a/b" << false;
        QTest::newRow("case-sensitive") << "README.md"
                                        << "readme.md" << false;
        QTest::newRow("env-anywhere") << "**/.env"
                                      << ".env" << true;
        QTest::newRow("env-anywhere-deep") << "**/.env"
                                           << "x/y/.env" << true;
        QTest::newRow("pathological") << "*a*a*a*a*a*a*a*a*b" << QString(200, u'a') << false;
        // REVIEW-L15: must finish quickly (the ctest timeout is the bound, not a clock here).
        QTest::newRow("REVIEW-L15/stars-long-text")
            << "*a*b*c" << QString(100000, u'a') + u'c' << false;
        QTest::newRow("REVIEW-L15/doublestars-long-text")
            << "**a**b**c" << QString(100000, u'a') + u'c' << false;
        QTest::newRow("REVIEW-L15/stars-long-text-match")
            << "*a*b*c" << QString(100000, u'a') + QStringLiteral("bc") << true;
        QTest::newRow("dot-root") << "."
                                  << "." << true;
    }
    void pathMode() {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(bool, expected);
        QCOMPARE(GlobMatcher(pattern, GlobMatcher::Mode::Path).matches(text), expected);
    }

    void textMode_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("expected");
        QTest::newRow("star-crosses-slash") << "*"
                                            << "/etc/passwd" << true;
        QTest::newRow("prefix") << "status*"
                                << "status" << true;
        QTest::newRow("prefix-more") << "status*"
                                     << "statusx" << true;
        QTest::newRow("REVIEW-L15/text-stars-long") << "*a*b*c*d" << QString(100000, u'a') << false;
        QTest::newRow("no-match") << "status*"
                                  << "push" << false;
    }
    void textMode() {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(bool, expected);
        QCOMPARE(GlobMatcher(pattern, GlobMatcher::Mode::Text).matches(text), expected);
    }

    void mayMatchBelow_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("dir");
        QTest::addColumn<bool>("expected");
        QTest::newRow("root") << ".env"
                              << "." << true;
        QTest::newRow("inside") << "secrets/**"
                                << "secrets" << true;
        QTest::newRow("parent") << "a/b/.env"
                                << "a" << true;
        QTest::newRow("elsewhere") << "secrets/**"
                                   << "src" << false;
        QTest::newRow("anywhere") << "**/.env"
                                  << "src" << true;
        QTest::newRow("literal-sibling") << ".env"
                                         << "src" << false;
    }
    void mayMatchBelow() {
        QFETCH(QString, pattern);
        QFETCH(QString, dir);
        QFETCH(bool, expected);
        QCOMPARE(GlobMatcher(pattern, GlobMatcher::Mode::Path).mayMatchBelow(dir), expected);
    }
};

QTEST_GUILESS_MAIN(TestGlobMatcher)
#include "tst_globmatcher.moc"
