#pragma once

#include "desktopsettings.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

// Edits DesktopSettings: gateway URL (checked as typed), token (with a warning that it is stored
// in plain text), channels and buffer size. Shown at first start and from the Settings action.
class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    // `storageLocation` is where QSettings keeps the values (shown in the token warning).
    SettingsDialog(const DesktopSettings &settings, const QString &storageLocation, bool firstStart,
                   QWidget *parent = nullptr);
    ~SettingsDialog() override;

    DesktopSettings settings() const;
    // Empty when the values can be saved; otherwise what is wrong.
    QString validationError() const;

    QLineEdit *urlEdit() const { return m_url; }
    QLineEdit *tokenEdit() const { return m_token; }
    QLineEdit *channelsEdit() const { return m_channels; }
    QLineEdit *caFileEdit() const { return m_caFile; }
    QSpinBox *bufferEdit() const { return m_buffer; }

private:
    void validate();

    QLineEdit *m_url;
    QLineEdit *m_token;
    QLineEdit *m_channels;
    QLineEdit *m_caFile;
    QSpinBox *m_buffer;
    QLabel *m_urlError;
    QLabel *m_tokenWarning;
    QDialogButtonBox *m_buttons;
};
