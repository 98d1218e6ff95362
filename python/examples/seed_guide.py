"""The seed guide's Keras programs (../shared/seed/, sections 2-6 of SEED-EN.md)
run on lstmkit: the guide's code with only its imports changed
(`keras.` -> `lstmkit.keras.`). Lines marked GLUE are what the guide leaves to
the reader (where raw_data comes from, the train/test split, data for the
3-feature model); the scaler is fitted on the training part only (the guide
fits it on the whole series, which leaks the test set).

    python python/examples/seed_guide.py            # the guide's 100 epochs
    SEED_EPOCHS=3 python python/examples/seed_guide.py
"""

import os

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler

from lstmkit.keras.models import Sequential, Model, load_model
from lstmkit.keras.layers import LSTM, Dense, Input, Attention, Bidirectional
from lstmkit.keras.callbacks import EarlyStopping, ReduceLROnPlateau
import lstmkit.keras as keras

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get("SEED_OUT", os.path.join(HERE, "..", "..", "target", "tmp", "seed_guide"))  # GLUE
os.makedirs(OUT, exist_ok=True)  # GLUE
EPOCHS = int(os.environ.get("SEED_EPOCHS", "100"))  # GLUE: the guide's epochs=100
raw_data = pd.read_csv(os.path.join(HERE, "..", "..", "data", "co2_weekly.csv"))["co2"].to_numpy()  # GLUE
n_train = int(len(raw_data) * 0.8)  # GLUE: the last 20% is the test set


# -- 2.1 data preparation -------------------------------------------------
def create_dataset(data, look_back=1):
    X, Y = [], []
    for i in range(len(data) - look_back):
        X.append(data[i:(i + look_back)])
        Y.append(data[i + look_back])
    return np.array(X), np.array(Y)


scaler = MinMaxScaler(feature_range=(0, 1))
scaler.fit(raw_data[:n_train].reshape(-1, 1))  # GLUE: fitted on the training part only
data = scaler.transform(raw_data.reshape(-1, 1))
timesteps = 10
X, y = create_dataset(data, timesteps)
X_train, y_train = X[:n_train - timesteps], y[:n_train - timesteps]  # GLUE
X_test, y_test = X[n_train - timesteps:], y[n_train - timesteps:]  # GLUE

# -- 2.2 models --------------------------------------------------------------
model = Sequential()
model.add(LSTM(50, activation='relu', input_shape=(timesteps, 1)))
model.add(Dense(1))
model.compile(optimizer='adam', loss='mse')

n_features = 3
model3 = Sequential()
model3.add(LSTM(100, activation='relu', return_sequences=True, input_shape=(timesteps, n_features)))
model3.add(LSTM(50, activation='relu'))
model3.add(Dense(1))  # one predicted value
model3.compile(optimizer='adam', loss='mse')  # GLUE: the guide builds it only
print("3-feature model output:", model3.predict(np.repeat(X[:2], 3, axis=2)).shape)  # GLUE

# -- 2.3 training ------------------------------------------------------------
history = model.fit(X_train, y_train,
                    epochs=EPOCHS,
                    batch_size=32,
                    validation_split=0.2,
                    verbose=1,
                    callbacks=[EarlyStopping(monitor='val_loss', patience=10),
                               ReduceLROnPlateau(monitor='val_loss', factor=0.2, patience=5)])
print("epochs run:", len(history.history['loss']), "last val_loss:", history.history['val_loss'][-1])

# -- 3.1 attention (functional API) ------------------------------------------
input_layer = Input(shape=(timesteps, 1))  # GLUE: n_features=1 for the CO2 series
lstm_out = LSTM(64, return_sequences=True)(input_layer)
attention = Attention()([lstm_out, lstm_out])  # self-attention
dense_out = Dense(1)(attention)
att_model = Model(inputs=input_layer, outputs=dense_out)
att_model.compile(optimizer='adam', loss='mse')  # GLUE
print("attention model output:", att_model.predict(X_test[:2]).shape)  # one value per timestep, as the guide's code

# -- 3.2 bidirectional ---------------------------------------------------------
bi = Sequential()
bi.add(Bidirectional(LSTM(50), input_shape=(timesteps, 1)))
bi.add(Dense(1))
bi.compile(optimizer=keras.optimizers.Adam(0.001, clipnorm=1.0), loss='mse')  # GLUE: compile
bi.fit(X_train, y_train, epochs=max(1, EPOCHS // 20), batch_size=32, verbose=0)  # GLUE
print("bidirectional test mse:", bi.evaluate(X_test, y_test, verbose=0))

# -- 4 deployment ----------------------------------------------------------------
path = os.path.join(OUT, 'lstm_regression.h5')  # GLUE: under target/tmp
model.save(path)
loaded_model = load_model(path)


def predict_future(model, last_sequence, steps=5):
    predictions = []
    current_sequence = last_sequence.copy()
    for _ in range(steps):
        x_input = current_sequence[-timesteps:].reshape(1, timesteps, 1)
        pred = model.predict(x_input, verbose=0)
        predictions.append(pred[0, 0])
        current_sequence = np.append(current_sequence[1:], pred)
    return predictions


future = predict_future(loaded_model, data[n_train - timesteps:n_train, 0], steps=5)
print("next 5 (ppm):", scaler.inverse_transform(np.array(future).reshape(-1, 1)).ravel())

# -- 6 evaluation -------------------------------------------------------------------
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score  # noqa: E402


def evaluate_model(y_true, y_pred):
    metrics = {'MAE': mean_absolute_error(y_true, y_pred),
               'RMSE': np.sqrt(mean_squared_error(y_true, y_pred)),
               'R2': r2_score(y_true, y_pred)}
    return metrics


y_pred = scaler.inverse_transform(loaded_model.predict(X_test))
print("test metrics (ppm):", evaluate_model(scaler.inverse_transform(y_test), y_pred))
