#pragma once

#include <QTableView>

class QLabel;
class QPushButton;
class QFrame;

// The log table with klogg-style follow mode: while following it keeps the newest line in view;
// scrolling up (wheel, scroll bar, keys) or selecting a line pauses it, so the line being read
// stays put even while old lines are evicted or older ones are put above it, and a bar says
// "Paused · N new" with a Live button. End, the Live button, or scrolling back to the bottom
// resumes following. Scrolling to the top while paused asks for older lines (scrolledToTop).
class LogView final : public QTableView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogView)

public:
    explicit LogView(QWidget *parent = nullptr);
    ~LogView() override;

    void setModel(QAbstractItemModel *model) override;

    bool isFollowing() const { return m_following; }
    // Lines added since following paused.
    int newWhilePaused() const { return m_newWhilePaused; }
    // The selected rows as text lines (the columns, tab-separated), oldest first.
    QString selectedText() const;
    QList<int> selectedRows() const;
    // Column widths that fit typical values of LogModel's columns, the message taking the rest.
    void applyDefaultColumnWidths();
    // Whether pausing shows the "Paused · N new" bar (a view of search results has no new lines).
    void setPausedBarEnabled(bool enabled);

public Q_SLOTS:
    // Resume following: scroll to the newest line and keep it in view.
    void goLive();
    void pause();
    void copySelection();

Q_SIGNALS:
    void followingChanged(bool following);
    // The user scrolled to the top while paused: the place for older lines.
    void scrolledToTop();

protected:
    void keyPressEvent(QKeyEvent *event) override;
    void currentChanged(const QModelIndex &current, const QModelIndex &previous) override;
    void resizeEvent(QResizeEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void handleScrolled(int value);
    void handleRowsAboutToBeInserted(const QModelIndex &parent, int first, int last);
    void handleRowsInserted(const QModelIndex &parent, int first, int last);
    void handleRowsAboutToBeRemoved(const QModelIndex &parent, int first, int last);
    void handleRowsRemoved(const QModelIndex &parent, int first, int last);
    void handleSelectionChanged(const QItemSelection &selected);
    void setFollowing(bool following);
    void scrollToNewest();
    void placePausedBar();
    void updatePausedBar();
    void applyRowHeight();

    bool m_following = true;
    bool m_adjusting = false; // scroll changes made here, not by the user
    bool m_removing = false;  // between rowsAboutToBeRemoved and rowsRemoved
    int m_newWhilePaused = 0;
    int m_valueBeforeRemoval = -1;
    int m_valueBeforeInsertAbove = -1; // set while rows go in above existing ones
    bool m_pausedBarEnabled = true;
    QFrame *m_pausedBar;
    QLabel *m_pausedLabel;
    QPushButton *m_liveButton;
};
