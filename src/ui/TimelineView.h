#pragma once

#include <QWidget>

class QListView;
class QPlainTextEdit;
class QSplitter;

namespace m1 {

class TimelineModel;

// A run's timeline (list painted by TimelineDelegate) beside a detail pane that shows the
// selected row whole: full arguments, output, policy and decision. Used live and read-only.
class TimelineView : public QWidget {
    Q_OBJECT
public:
    explicit TimelineView(QWidget* parent = nullptr);

    TimelineModel* model() const { return m_model; }
    QListView* list() const { return m_list; }
    QPlainTextEdit* detail() const { return m_detail; }
    QSplitter* splitter() const { return m_splitter; }
    // Keeps the newest row in view while the person has not scrolled up.
    void setFollow(bool follow) { m_follow = follow; }
    void selectRow(int row);

private:
    void showDetail();

    TimelineModel* m_model = nullptr;
    QListView* m_list = nullptr;
    QPlainTextEdit* m_detail = nullptr;
    QSplitter* m_splitter = nullptr;
    bool m_follow = true;
};

} // namespace m1
