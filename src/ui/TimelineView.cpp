#include "TimelineView.h"

#include "TimelineDelegate.h"
#include "TimelineModel.h"

#include <QFontDatabase>
#include <QListView>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QSplitter>
#include <QVBoxLayout>

namespace m1 {

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setObjectName(QStringLiteral("timelineSplitter"));
    m_model = new TimelineModel(this);
    m_list = new QListView(m_splitter);
    m_list->setObjectName(QStringLiteral("timeline"));
    m_list->setAccessibleName(tr("Run timeline"));
    m_list->setModel(m_model);
    m_list->setItemDelegate(new TimelineDelegate(m_list));
    m_list->setUniformItemSizes(false);
    m_list->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    // Rows are laid out in batches between events: a long run never freezes the window.
    m_list->setLayoutMode(QListView::Batched);
    m_list->setBatchSize(200);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setWordWrap(true);
    m_detail = new QPlainTextEdit(m_splitter);
    m_detail->setObjectName(QStringLiteral("timelineDetail"));
    m_detail->setAccessibleName(tr("Details of the selected step"));
    m_detail->setReadOnly(true);
    m_detail->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_detail->setPlaceholderText(tr("Select a row to see everything about it: the full "
                                    "arguments, the output, the policy's reason and who "
                                    "decided."));
    m_splitter->addWidget(m_list);
    m_splitter->addWidget(m_detail);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    layout->addWidget(m_splitter);

    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this,
            &TimelineView::showDetail);
    connect(m_model, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex& first, const QModelIndex& last) {
                const QModelIndex current = m_list->currentIndex();
                if (current.isValid() && current.row() >= first.row() &&
                    current.row() <= last.row())
                    showDetail();
            });
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        const QScrollBar* bar = m_list->verticalScrollBar();
        if (m_follow && bar->value() >= bar->maximum() - 4)
            m_list->scrollToBottom();
    });
}

void TimelineView::selectRow(int row) {
    m_list->setCurrentIndex(m_model->index(row));
}

void TimelineView::showDetail() {
    const QModelIndex current = m_list->currentIndex();
    if (!current.isValid()) {
        m_detail->clear();
        return;
    }
    const int scroll = m_detail->verticalScrollBar()->value();
    m_detail->setPlainText(TimelineModel::describe(m_model->entry(current.row())));
    m_detail->verticalScrollBar()->setValue(scroll);
}

} // namespace m1
