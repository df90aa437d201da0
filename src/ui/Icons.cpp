#include "Icons.h"

#include <QApplication>
#include <QIconEngine>
#include <QImageReader>
#include <QPainter>
#include <QPainterPath>
#include <QPalette>

namespace m1 {

namespace {

const char* fileName(Icons::Kind kind) {
    switch (kind) {
    case Icons::Start:
        return "start";
    case Icons::Stop:
        return "stop";
    case Icons::Approve:
        return "approve";
    case Icons::Deny:
        return "deny";
    case Icons::Pending:
        return "pending";
    case Icons::History:
        return "history";
    case Icons::Charts:
        return "charts";
    case Icons::Alerts:
        return "alerts";
    case Icons::Settings:
        return "settings";
    case Icons::Export:
        return "export";
    case Icons::NewRun:
        return "new-run";
    case Icons::Run:
        return "run";
    }
    return "run";
}

// Paths on a 24×24 grid, stroked in the text colour of the current palette.
class VectorIconEngine : public QIconEngine {
public:
    explicit VectorIconEngine(Icons::Kind kind) : m_kind(kind) {}
    QIconEngine* clone() const override { return new VectorIconEngine(m_kind); }

    void paint(QPainter* p, const QRect& rect, QIcon::Mode mode, QIcon::State) override {
        p->save();
        p->setRenderHint(QPainter::Antialiasing);
        p->translate(rect.topLeft());
        p->scale(rect.width() / 24.0, rect.height() / 24.0);
        const QPalette pal = QApplication::palette();
        QColor c = pal.color(mode == QIcon::Disabled ? QPalette::Disabled : QPalette::Active,
                             QPalette::WindowText);
        QPen pen(c, 2.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
        p->setPen(pen);
        p->setBrush(Qt::NoBrush);
        QPainterPath path;
        switch (m_kind) {
        case Icons::Start:
        case Icons::Run:
            path.moveTo(7, 4);
            path.lineTo(19, 12);
            path.lineTo(7, 20);
            path.closeSubpath();
            p->setBrush(c);
            break;
        case Icons::Stop:
            path.addRoundedRect(QRectF(6, 6, 12, 12), 2, 2);
            p->setBrush(c);
            break;
        case Icons::Approve:
            path.moveTo(4, 13);
            path.lineTo(9, 18);
            path.lineTo(20, 6);
            break;
        case Icons::Deny:
            path.moveTo(6, 6);
            path.lineTo(18, 18);
            path.moveTo(18, 6);
            path.lineTo(6, 18);
            break;
        case Icons::Pending:
            path.addEllipse(QPointF(12, 12), 8.5, 8.5);
            path.moveTo(12, 7);
            path.lineTo(12, 12);
            path.lineTo(16, 14);
            break;
        case Icons::History:
            path.addRect(QRectF(4, 5, 16, 14));
            path.moveTo(4, 9.5);
            path.lineTo(20, 9.5);
            path.moveTo(4, 14);
            path.lineTo(20, 14);
            break;
        case Icons::Charts:
            path.moveTo(4, 20);
            path.lineTo(20, 20);
            path.addRect(QRectF(6, 12, 3, 8));
            path.addRect(QRectF(11, 7, 3, 13));
            path.addRect(QRectF(16, 10, 3, 10));
            break;
        case Icons::Alerts:
            path.moveTo(12, 3.5);
            path.lineTo(21, 20);
            path.lineTo(3, 20);
            path.closeSubpath();
            path.moveTo(12, 9);
            path.lineTo(12, 14);
            path.moveTo(12, 17);
            path.lineTo(12, 17.2);
            break;
        case Icons::Settings:
            path.addEllipse(QPointF(12, 12), 3, 3);
            for (int i = 0; i < 8; ++i) {
                const QTransform t = QTransform().translate(12, 12).rotate(i * 45);
                path.moveTo(t.map(QPointF(0, -6)));
                path.lineTo(t.map(QPointF(0, -9)));
            }
            path.addEllipse(QPointF(12, 12), 6, 6);
            break;
        case Icons::Export:
            path.moveTo(12, 4);
            path.lineTo(12, 15);
            path.moveTo(7.5, 10.5);
            path.lineTo(12, 15);
            path.lineTo(16.5, 10.5);
            path.moveTo(5, 19);
            path.lineTo(19, 19);
            break;
        case Icons::NewRun:
            path.moveTo(12, 5);
            path.lineTo(12, 19);
            path.moveTo(5, 12);
            path.lineTo(19, 12);
            break;
        }
        p->drawPath(path);
        p->restore();
    }

    QPixmap pixmap(const QSize& size, QIcon::Mode mode, QIcon::State state) override {
        return scaledPixmap(size, mode, state, 1.0);
    }

    QPixmap scaledPixmap(const QSize& size, QIcon::Mode mode, QIcon::State state,
                         qreal scale) override {
        QPixmap pm(size * scale);
        pm.setDevicePixelRatio(scale);
        pm.fill(Qt::transparent);
        QPainter p(&pm);
        paint(&p, QRect(QPoint(0, 0), size), mode, state);
        return pm;
    }

private:
    Icons::Kind m_kind;
};

} // namespace

QIcon Icons::icon(Kind kind) {
    static const bool svg = QImageReader::supportedImageFormats().contains("svg");
    if (svg)
        return QIcon(QStringLiteral(":/ui/icons/%1.svg").arg(QLatin1String(fileName(kind))));
    return QIcon(new VectorIconEngine(kind));
}

} // namespace m1
